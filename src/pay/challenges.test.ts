import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseChallenges } from './challenges.js';

describe('parseChallenges', () => {
  it('parses an L402 challenge with quoted parameters', () => {
    expect(parseChallenges('L402 macaroon="AgEEbHNhdA==", invoice="lnbc1abc"')).toEqual([
      { scheme: 'l402', params: { macaroon: 'AgEEbHNhdA==', invoice: 'lnbc1abc' } },
    ]);
  });

  it('splits several challenges on one line and across lines, with case-insensitive names', () => {
    expect(parseChallenges(['LSAT macaroon="a", invoice="b", L402 Token=c , INVOICE="d"', 'Basic realm="api"'])).toEqual([
      { scheme: 'lsat', params: { macaroon: 'a', invoice: 'b' } },
      { scheme: 'l402', params: { token: 'c', invoice: 'd' } },
      { scheme: 'basic', params: { realm: 'api' } },
    ]);
  });

  it('unescapes quoted strings and keeps commas and equals signs inside them', () => {
    expect(parseChallenges('Basic realm="a \\"b\\" \\\\ c, d=e"')).toEqual([{ scheme: 'basic', params: { realm: 'a "b" \\ c, d=e' } }]);
  });

  it('reads token68 values, padding included, and schemes without parameters', () => {
    expect(parseChallenges('Bearer abc.DEF-ghi_~+/==, Negotiate, Basic realm="x"')).toEqual([
      { scheme: 'bearer', params: {}, token68: 'abc.DEF-ghi_~+/==' },
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('allows empty list elements and white space around "="', () => {
    expect(parseChallenges(' , L402 token = "t" ,, invoice= i ,')).toEqual([{ scheme: 'l402', params: { token: 't', invoice: 'i' } }]);
  });

  it('marks a repeated parameter, an unterminated quote and a missing value invalid instead of guessing', () => {
    expect(parseChallenges('L402 invoice="a", invoice="b"')[0]?.invalid).toMatch(/repeated/);
    expect(parseChallenges('L402 invoice="a')[0]?.invalid).toMatch(/malformed/);
    expect(parseChallenges('L402 token="x", invoice=')[0]?.invalid).toMatch(/malformed value/);
    // The next challenge after a broken one is still read.
    const [broken, next] = parseChallenges('L402 invoice="a", invoice="b", Basic realm="r"');
    expect(broken?.invalid).toBeDefined();
    expect(next).toEqual({ scheme: 'basic', params: { realm: 'r' } });
  });

  it('reads unquoted base64 values (with "/", "+" and "=") up to the next comma, as sloppy servers send them', () => {
    expect(parseChallenges('L402 TOKEN=AgEL/bHNh+dA==, invoice=LNBC10N1PXYZ, Basic realm=x')).toEqual([
      { scheme: 'l402', params: { token: 'AgEL/bHNh+dA==', invoice: 'LNBC10N1PXYZ' } },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
    expect(parseChallenges('L402 macaroon = AgE/x= ,invoice=lnbc1')).toEqual([{ scheme: 'l402', params: { macaroon: 'AgE/x=', invoice: 'lnbc1' } }]);
  });

  it('still refuses duplicates and ambiguity in unquoted values', () => {
    expect(parseChallenges('L402 token=AgE/x=, TOKEN=AgE/y=, invoice=lnbc1')[0]?.invalid).toMatch(/repeated/);
    expect(parseChallenges('L402 token=AgE/x= invoice=lnbc1')[0]?.invalid).toMatch(/not separated by commas/);
    expect(parseChallenges('L402 token=AgE"x", invoice=lnbc1')[0]?.invalid).toBeDefined();
    expect(parseChallenges('L402 token=AgE;x, invoice=lnbc1')[0]?.invalid).toBeDefined();
  });

  it('returns nothing for a missing header', () => {
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
  });

  it('reads back any list of challenges it is given (property)', () => {
    const token = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,11}$/);
    const value = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s));
    const challenge = fc.record({
      scheme: token,
      params: fc.uniqueArray(fc.tuple(token, value), { maxLength: 4, selector: ([name]) => name.toLowerCase() }),
    });
    fc.assert(
      fc.property(fc.array(challenge, { minLength: 1, maxLength: 4 }), (list) => {
        const quote = (s: string): string => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
        const header = list.map((c) => [c.scheme, c.params.map(([n, v]) => `${n}=${quote(v)}`).join(', ')].filter(Boolean).join(' ')).join(', ');
        const parsed = parseChallenges(header);
        expect(parsed).toEqual(list.map((c) => ({ scheme: c.scheme.toLowerCase(), params: Object.fromEntries(c.params.map(([n, v]) => [n.toLowerCase(), v])) })));
      }),
    );
  });
});
