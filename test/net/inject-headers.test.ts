import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { startServer, testCertificate } from '../helpers/http-server.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { testZone } from './setup.js';

const TOKEN = 'Bearer host-secret-token';

async function gateway(injectHeaders: Record<string, Record<string, string>>, ports: number[], warnings: string[] = []) {
  const { cert } = await testCertificate();
  return createGateway(
    {
      policy: { allowTools: ['http.fetch'] },
      connectors: { http: { allowedDomains: ['api.test', 'other.test'], allowedPorts: ports, allowNetworks: ['127.0.0.1/32'], retries: 0, injectHeaders } },
    },
    { resolver: testZone(), dial: loopbackOnlyDial({ ca: cert }), logger: { warn: (m) => warnings.push(m) } },
  );
}

describe('injectHeaders keyed by origin', () => {
  it('sends the token to its https origin only: not over http, not to another port of the same host, not after a redirect to one', async () => {
    await using secure = await startServer((req, res) => {
      if (req.url === '/hop') res.writeHead(302, { location: `https://api.test:${otherSecure.port}/landed` }).end();
      else res.end('ok');
    }, { tls: true });
    await using otherSecure = await startServer((_req, res) => res.end('ok'), { tls: true });
    await using plain = await startServer((_req, res) => res.end('ok'));
    await using gw = await gateway({ [`https://api.test:${secure.port}`]: { authorization: TOKEN } }, [secure.port, otherSecure.port, plain.port]);
    await gw.call('http.fetch', { url: `https://api.test:${secure.port}/a` });
    expect(secure.requests[0]?.headers.authorization).toBe(TOKEN);
    await gw.call('http.fetch', { url: `http://api.test:${plain.port}/b` });
    await gw.call('http.fetch', { url: `https://api.test:${otherSecure.port}/c` });
    await (await gw.fetch(`https://api.test:${secure.port}/hop`)).text();
    expect(secure.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/a', TOKEN],
      ['/hop', TOKEN],
    ]);
    expect(otherSecure.requests.map((r) => [r.url, r.headers.authorization])).toEqual([
      ['/c', undefined],
      ['/landed', undefined],
    ]);
    expect(plain.requests.map((r) => [r.url, r.headers.authorization])).toEqual([['/b', undefined]]);
  });

  it('never sends a bare host key over http or to a port other than 443', async () => {
    await using secure = await startServer((_req, res) => res.end('ok'), { tls: true });
    await using plain = await startServer((_req, res) => res.end('ok'));
    await using gw = await gateway({ 'api.test': { authorization: TOKEN } }, [secure.port, plain.port]);
    await gw.call('http.fetch', { url: `http://api.test:${plain.port}/` });
    await gw.call('http.fetch', { url: `https://api.test:${secure.port}/` });
    expect(plain.requests[0]?.headers.authorization).toBeUndefined();
    expect(secure.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('sends over http only to a named http origin, with a warning through the host logger', async () => {
    await using plain = await startServer((_req, res) => res.end('ok'));
    await using otherPlain = await startServer((_req, res) => res.end('ok'));
    const warnings: string[] = [];
    await using gw = await gateway({ [`http://api.test:${plain.port}`]: { authorization: TOKEN } }, [plain.port, otherPlain.port], warnings);
    expect(warnings.join('\n')).toContain(`http://api.test:${plain.port}`);
    expect(warnings.join('\n')).not.toContain('host-secret-token');
    await gw.call('http.fetch', { url: `http://api.test:${plain.port}/` });
    await gw.call('http.fetch', { url: `http://api.test:${otherPlain.port}/` });
    await gw.call('http.fetch', { url: `http://other.test:${plain.port}/` });
    expect(plain.requests.map((r) => [r.headers.host, r.headers.authorization])).toEqual([
      [`api.test:${plain.port}`, TOKEN],
      [`other.test:${plain.port}`, undefined],
    ]);
    expect(otherPlain.requests[0]?.headers.authorization).toBeUndefined();
  });

  it('refuses an ambiguous host:port key and a malformed origin with CONFIG_INVALID', async () => {
    for (const key of ['api.test:8443', 'https://api.test/v1', 'ftp://api.test']) {
      await expect(gateway({ [key]: { authorization: TOKEN } }, [])).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    }
  });
});
