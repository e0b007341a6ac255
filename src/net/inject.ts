import { GatewayError } from '../errors.js';
import { compileDomains, type DomainList } from './domains.js';
import { headerProblem } from './headers.js';

type HeaderMap = Record<string, string>;

/** One `injectHeaders` entry, compiled: the origins it is for and its headers (lower-case names). */
interface Injection {
  key: string;
  scheme: 'http:' | 'https:';
  port: number;
  hosts: DomainList;
  headers: HeaderMap;
  /** Whether the host was told that a request to a matching host on another origin went without them. */
  warned: boolean;
}

/** Headers injected on one hop, by its URL (scheme, port) and normalised host name. */
export type InjectedFor = (url: URL, hostname: string) => HeaderMap | undefined;

const DEFAULT_PORT = { 'http:': 80, 'https:': 443 } as const;
// scheme://host[:port][/]: host a name, a `*.` wildcard, `*`, an IPv4 address or a bracketed IPv6 one.
const ORIGIN = /^(https?):\/\/(\[[0-9a-fA-F:.]+\]|[^/?#@[\]:\s]+)(?::(\d{1,5}))?\/?$/i;

/**
 * Compiles `injectHeaders`. A key is either an origin, `https://api.example.com:8443` or
 * `http://localhost:8080` (scheme, host pattern and port, the port defaulting to the scheme's),
 * whose headers go to exactly that origin; or a bare host pattern, `api.github.com` or
 * `*.example.com`, which means `https://` on port 443 only. So a token is never sent in
 * cleartext nor to another port of its host unless that origin is named. `warn` is told of
 * every `http:` origin at once (its headers travel in cleartext), and, once per key, of the
 * first request to a matching host on another scheme or port (its headers withheld).
 *
 * @throws GatewayError `CONFIG_INVALID` for a key that is neither (a bare `host:port` is
 *   refused as ambiguous: name the scheme) or a header that is not a valid name and value.
 */
export function compileInjections(config: Readonly<Record<string, Readonly<Record<string, string>>>>, warn: (message: string) => void): InjectedFor {
  const injections: Injection[] = Object.entries(config).map(([key, headers]) => {
    const lower: HeaderMap = {};
    for (const [name, value] of Object.entries(headers)) {
      const problem = headerProblem(name, value);
      if (problem !== undefined) throw new GatewayError('CONFIG_INVALID', `injectHeaders["${key}"]: ${problem}.`);
      lower[name.toLowerCase()] = value;
    }
    const injection: Injection = { key, ...parseKey(key), headers: lower, warned: false };
    if (injection.scheme === 'http:') {
      warn(`injectHeaders["${key}"]: these headers are sent over plain http: anyone on the path can read them. Prefer an https:// origin.`);
    }
    return injection;
  });
  if (injections.length === 0) return () => undefined;
  return (url, hostname) => {
    const scheme = url.protocol;
    const port = url.port === '' ? DEFAULT_PORT[scheme as keyof typeof DEFAULT_PORT] : Number(url.port);
    let found: HeaderMap | undefined;
    let withheld: Injection | undefined;
    for (const injection of injections) {
      if (injection.hosts.match(hostname) === undefined) continue;
      if (injection.scheme === scheme && injection.port === port) found = { ...found, ...injection.headers };
      else withheld ??= injection.warned ? undefined : injection;
    }
    if (found === undefined && withheld !== undefined) {
      // Once per key: its host is reached on another scheme or port, and nothing is injected there.
      withheld.warned = true;
      const origin = `${scheme}//${url.host}`;
      warn(`injectHeaders["${withheld.key}"] were not sent to ${origin}: they go to ${withheld.scheme}//…:${withheld.port} only. Name the origin "${origin}" to send them there too.`);
    }
    return found;
  };
}

function parseKey(key: string): Pick<Injection, 'scheme' | 'port' | 'hosts'> {
  const invalid = (why: string): GatewayError =>
    new GatewayError('CONFIG_INVALID', `injectHeaders["${key}"]: ${why}. Use a host pattern (https, port 443) or an origin such as "https://api.example.com:8443".`, {
      data: { key },
    });
  let scheme: 'http:' | 'https:' = 'https:';
  let host = key;
  let port = 443;
  if (key.includes('://')) {
    const match = ORIGIN.exec(key);
    if (match === null) throw invalid('not an http(s) origin (scheme, host and optional port; no path, query or credentials)');
    scheme = `${(match[1] as string).toLowerCase()}:` as 'http:' | 'https:';
    host = match[2] as string;
    port = match[3] === undefined ? DEFAULT_PORT[scheme] : Number(match[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw invalid(`port ${match[3]} is out of range`);
  } else if (/[:/]/.test(key) && !key.startsWith('[')) {
    throw invalid('a host with a port or path is ambiguous without a scheme');
  }
  try {
    return { scheme, port, hosts: compileDomains([host]) };
  } catch (error) {
    throw invalid((error as Error).message);
  }
}
