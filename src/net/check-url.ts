import { compileNetPolicy, type NetPolicy, type NetPolicyOptions, type UrlVerdict } from './url-policy.js';
import { systemResolver, type Resolver } from './resolver.js';

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
  let parsed: URL;
  try {
    parsed = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return { allowed: false, code: 'VALIDATION_FAILED', reason: 'not a valid absolute URL', addresses: [] };
  }
  let policy = compiled.get(options);
  if (policy === undefined) {
    policy = compileNetPolicy(options);
    compiled.set(options, policy);
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
