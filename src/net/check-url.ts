import { compileNetPolicy, type NetPolicy, type NetPolicyOptions, type UrlVerdict } from './url-policy.js';
import { systemResolver, type Resolver } from './resolver.js';
import { parseDottedQuad } from './ip.js';

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
/**
 * An http(s) URL whose host is a canonical dotted quad, with an optional port without leading
 * zeros, then nothing or a path, query or fragment of printable ASCII. For such a string WHATWG
 * parsing gives exactly this scheme, host and port and no userinfo (nothing it strips, no
 * backslash, `@` or other character before the path that could move the host), so the URL
 * parser can be skipped. Anything else takes the full parse.
 */
const LITERAL_V4_URL = new RegExp(`^(https?)://(${OCTET}(?:\\.${OCTET}){3})(?::([1-9][0-9]{0,4}))?(?:[/?#][\\x21-\\x7e]*)?$`);

/** Options of {@link checkUrl}. */
export interface CheckUrlOptions extends NetPolicyOptions {
  /** DNS resolver. @default the system's, every A and AAAA record */
  resolver?: Resolver | undefined;
  signal?: AbortSignal | undefined;
}

// checkUrl compiles its options on every call; callers that check often hold a compiled policy.
const compiled = new WeakMap<CheckUrlOptions, NetPolicy>();

/**
 * Decides whether `url` may be fetched, without connecting: http(s) only, no userinfo, ports
 * 80/443 plus `allowedPorts`, the domain lists (after WHATWG parsing, lower-casing and
 * trailing-dot removal), IP literals against the blocked ranges, and every address of the DNS
 * answer. A refusal is returned, not thrown.
 *
 * @example
 * ```ts
 * const verdict = await checkUrl('http://169.254.169.254/latest/meta-data', { allowedDomains: ['*'] });
 * verdict.allowed; // false
 * verdict.code;    // 'SSRF_BLOCKED'
 * ```
 */
export async function checkUrl(url: string | URL, options: CheckUrlOptions = {}): Promise<UrlVerdict> {
  let policy = compiled.get(options);
  if (policy === undefined) {
    policy = compileNetPolicy(options);
    compiled.set(options, policy);
  }
  const literal = typeof url === 'string' ? LITERAL_V4_URL.exec(url) : null;
  if (literal !== null) {
    const [, scheme, host = '', portText] = literal;
    const port = portText === undefined ? (scheme === 'https' ? 443 : 80) : Number(portText);
    const ip = parseDottedQuad(host);
    if (port <= 65_535 && ip !== undefined) {
      const verdict = policy.checkHost(host, port, ip);
      return { allowed: verdict.allowed, code: verdict.code, reason: verdict.reason, addresses: verdict.addresses };
    }
  }
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return { allowed: false, code: 'VALIDATION_FAILED', reason: 'not a valid absolute URL', addresses: [] };
  }
  const verdict = policy.checkStatic(parsed);
  if (!verdict.allowed || verdict.literal !== undefined) {
    return { allowed: verdict.allowed, code: verdict.code, reason: verdict.reason, addresses: verdict.addresses };
  }
  const resolver = options.resolver ?? systemResolver;
  let addresses;
  try {
    addresses = await resolver(verdict.hostname, { signal: options.signal });
  } catch {
    return { allowed: false, code: 'UPSTREAM_ERROR', reason: `host ${verdict.hostname} could not be resolved`, addresses: [] };
  }
  return policy.checkAddresses(verdict.hostname, addresses);
}
