import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fakeResolver } from '../../test/helpers/net.js';
import { checkUrl } from './check-url.js';

const resolver = fakeResolver({
  'api.github.com': ['140.82.112.5'],
  'a.example.com': ['93.184.216.34'],
  'deep.b.example.com': ['93.184.216.35'],
  'example.com': ['93.184.216.34'],
  'mixed.example.com': ['93.184.216.34', '10.0.0.7'],
  'v6.example.com': ['2606:2800:220:1::1', 'fd00::1'],
  'meta.example.com': ['169.254.169.254'],
  'empty.example.com': [],
  'local.test': ['127.0.0.1'],
});
const options = { allowedDomains: ['api.github.com', '*.example.com'], resolver };

describe('checkUrl', () => {
  it('allows a listed host whose every address is public, and returns the addresses', async () => {
    const verdict = await checkUrl('https://api.github.com/repos', options);
    expect(verdict).toMatchObject({ allowed: true, addresses: [{ address: '140.82.112.5', family: 4 }] });
  });

  it('matches wildcards one or more labels deep but never the apex', async () => {
    expect((await checkUrl('https://a.example.com/', options)).allowed).toBe(true);
    expect((await checkUrl('https://deep.b.example.com/', options)).allowed).toBe(true);
    expect(await checkUrl('https://example.com/', options)).toMatchObject({ allowed: false, code: 'DOMAIN_NOT_ALLOWED' });
    expect(await checkUrl('https://evilexample.com/', options)).toMatchObject({ allowed: false, code: 'DOMAIN_NOT_ALLOWED' });
  });

  it('compares hosts after lower-casing and trailing-dot removal', async () => {
    expect((await checkUrl('https://API.GitHub.COM./x', options)).allowed).toBe(true);
  });

  it('lets deniedDomains win over allowedDomains', async () => {
    const verdict = await checkUrl('https://a.example.com/', { ...options, deniedDomains: ['a.example.com'] });
    expect(verdict).toMatchObject({ allowed: false, code: 'DOMAIN_NOT_ALLOWED' });
    expect(verdict.reason).toMatch(/deniedDomains/);
  });

  it('refuses other schemes, credentials in the URL and unlisted ports', async () => {
    for (const url of ['ftp://api.github.com/', 'file:///etc/passwd', 'gopher://api.github.com/', 'ws://api.github.com/']) {
      expect(await checkUrl(url, options), url).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
    }
    expect(await checkUrl('https://user:pw@api.github.com/', options)).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
    expect(await checkUrl('https://api.github.com:8443/', options)).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
    expect((await checkUrl('https://api.github.com:8443/', { ...options, allowedPorts: [8443] })).allowed).toBe(true);
    expect((await checkUrl('http://api.github.com:443/', options)).allowed).toBe(true);
  });

  it('refuses a DNS answer that hides one private address among public ones', async () => {
    expect(await checkUrl('https://mixed.example.com/', options)).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
    expect(await checkUrl('https://v6.example.com/', options)).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
    expect(await checkUrl('https://meta.example.com/', options)).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
    expect(await checkUrl('https://empty.example.com/', options)).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
  });

  it('catches loopback in every IPv4 notation WHATWG normalises (decimal, octal, hex, short)', async () => {
    const literal = { allowedDomains: ['127.0.0.1'], resolver };
    for (const host of ['127.0.0.1', '2130706433', '0177.0.0.1', '0x7f.1', '127.1', '0x7f000001', '017700000001']) {
      const verdict = await checkUrl(`http://${host}/`, literal);
      expect(verdict, host).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
      expect(verdict.reason, host).toMatch(/127\.0\.0\.1/);
    }
  });

  it('catches IPv6 literals: loopback, mapped (both notations), link-local with a zone', async () => {
    const literal = { allowedDomains: ['[::1]', '[::ffff:7f00:1]', '[fe80::1]'], resolver };
    for (const host of ['[::1]', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']) {
      expect(await checkUrl(`http://${host}/`, literal), host).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
    }
    // WHATWG refuses a zone id in a URL outright, so it never reaches the address check.
    expect(await checkUrl('http://[fe80::1%25eth0]/', literal)).toMatchObject({ allowed: false, code: 'VALIDATION_FAILED' });
  });

  it('needs an IP literal to be listed by address: "*" covers host names only', async () => {
    expect(await checkUrl('http://8.8.8.8/', { allowedDomains: ['*'], resolver })).toMatchObject({ allowed: false, code: 'DOMAIN_NOT_ALLOWED' });
    expect((await checkUrl('http://8.8.8.8/', { allowedDomains: ['8.8.8.8'], resolver })).allowed).toBe(true);
  });

  it('reaches a private address only through allowNetworks', async () => {
    const local = { allowedDomains: ['local.test', '127.0.0.1'], resolver };
    expect(await checkUrl('http://local.test/', local)).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
    expect((await checkUrl('http://local.test/', { ...local, allowNetworks: ['127.0.0.1/32'] })).allowed).toBe(true);
    expect((await checkUrl('http://127.0.0.1/', { ...local, allowNetworks: ['127.0.0.1/32'] })).allowed).toBe(true);
    expect(await checkUrl('http://127.0.0.2/', { allowedDomains: ['127.0.0.2'], allowNetworks: ['127.0.0.1/32'] })).toMatchObject({ allowed: false });
  });

  it('refuses an empty allow list (default deny) and reports an unresolvable host', async () => {
    expect(await checkUrl('https://api.github.com/', { resolver })).toMatchObject({ allowed: false, code: 'DOMAIN_NOT_ALLOWED' });
    expect(await checkUrl('https://nx.example.com/', options)).toMatchObject({ allowed: false, code: 'UPSTREAM_ERROR' });
    expect(await checkUrl('not a url', options)).toMatchObject({ allowed: false, code: 'VALIDATION_FAILED' });
  });

  it('never names the query or credentials in its reason', async () => {
    const verdict = await checkUrl('https://mixed.example.com/p?api_key=s3cret', options);
    expect(verdict.reason).not.toContain('s3cret');
  });
});

describe('checkUrl: the IP-literal fast path gives the verdict of the full URL parse', () => {
  // DNS answers come from the fake resolver: nothing is resolved or dialled for real.
  const options = { allowedDomains: ['93.184.216.34', '127.0.0.1', '1.2.3.4', 'evil.example'], allowedPorts: [8080], allowNetworks: ['127.0.0.1/32'], resolver };
  const piece = fc.constantFrom(
    'http://', 'https://', 'HTTP://', 'http:/', 'ftp://', '93.184.216.34', '127.0.0.1', '127.0.0.2', '1.2.3.4', '01.2.3.4', '1.2.3.04', '0x7f.0.0.1',
    '256.1.1.1', '1.2.3', '.', ':', ':80', ':443', ':8080', ':080', ':0', ':65535', ':65536', ':99999', '@', 'user:pw@', 'evil.example', '/', '\\',
    '?', '#', '%2e', '%31', ' ', '\t', '\n', '\u00e9', '[::1]', 'a', '/path', '?q=1', '#frag',
  );
  const candidate = fc.array(piece, { minLength: 1, maxLength: 6 }).map((parts) => parts.join(''));

  it('for every string, fast path or not, the verdict equals the one on the parsed URL object', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(candidate, candidate.map((rest) => `http://${rest}`), candidate.map((rest) => `https://1.2.3.4${rest}`)), async (text) => {
        let parsed: URL | undefined;
        try {
          parsed = new URL(text);
        } catch {
          parsed = undefined;
        }
        const verdict = await checkUrl(text, options);
        if (parsed === undefined) expect(verdict).toMatchObject({ allowed: false, code: 'VALIDATION_FAILED' });
        else expect(verdict).toEqual(await checkUrl(parsed, options));
      }),
      { numRuns: 3000 },
    );
  });

  it('decides the literal forms it takes without a URL parse exactly as before', async () => {
    expect(await checkUrl('https://93.184.216.34/api?x=1', options)).toMatchObject({ allowed: true, addresses: [{ address: '93.184.216.34', family: 4 }] });
    expect(await checkUrl('http://127.0.0.1:8080/', options)).toMatchObject({ allowed: true });
    expect(await checkUrl('http://127.0.0.2/', options)).toMatchObject({ allowed: false, code: 'DOMAIN_NOT_ALLOWED' });
    expect(await checkUrl('http://1.2.3.4:81/', options)).toMatchObject({ allowed: false, code: 'SSRF_BLOCKED' });
    expect(await checkUrl('http://1.2.3.4:99999/', options)).toMatchObject({ allowed: false, code: 'VALIDATION_FAILED' });
    expect(await checkUrl('http://1.2.3.4@evil.example/', options)).toMatchObject({ addresses: [] });
  });
});
