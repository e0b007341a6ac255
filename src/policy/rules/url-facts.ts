import { GatewayError } from '../../errors.js';
import type { Facts } from '../../tools.js';

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'http:': 80, 'https:': 443 };
const UNRESERVED = /[A-Za-z0-9\-._~]/;

/**
 * Percent-encoding in one canonical form: octets of unreserved characters decoded (`%41` is
 * `A`), every other escape in upper-case hex (`%2f` is `%2F`). An encoded `/` stays encoded:
 * `/a%2Fb` is one segment, as the URL standard reads it.
 */
export function normalisePercent(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/** The URL parsed as the guarded fetch parses it, or `VALIDATION_FAILED`. */
export function parseAgentUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw new GatewayError('VALIDATION_FAILED', 'The URL is not a valid absolute URL.');
  }
}

/**
 * The facts argument rules see of one HTTP request, from the WHATWG-parsed URL (dot segments,
 * `%2e` included, already resolved; IDNs in punycode): `scheme` (`https`), `host` (lower case,
 * no trailing dots; an IPv6 address in brackets), `port` (the default one filled in), `origin`,
 * `path` and `url` (percent-encoding normalised), and `method` (upper case).
 */
export function urlFacts(url: URL, method: string): Facts {
  const scheme = url.protocol.slice(0, -1);
  let host = url.hostname.toLowerCase();
  while (host.endsWith('.')) host = host.slice(0, -1);
  const defaultPort = DEFAULT_PORTS[url.protocol];
  const port = url.port === '' ? (defaultPort ?? 0) : Number(url.port);
  const origin = `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}`;
  const path = normalisePercent(url.pathname);
  return { scheme, host, port, origin, path, url: `${origin}${path}${normalisePercent(url.search)}`, method: method.toUpperCase() };
}
