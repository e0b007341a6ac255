/** A compiled domain list: exact names and `*.` wildcards. */
export interface DomainList {
  /** The pattern that matches `hostname` (already normalised), if any. */
  match(hostname: string): string | undefined;
  readonly size: number;
}

/**
 * Normalises a host name as WHATWG URL parsing does (lower case, punycode for non-ASCII,
 * IPv4 forms to dotted quad, IPv6 in brackets) and drops one trailing dot, so that
 * `API.GitHub.com.` and `api.github.com` compare equal.
 *
 * @throws TypeError when the text is not a valid host.
 */
export function normaliseHost(host: string): string {
  const hostname = new URL(`http://${host}/`).hostname;
  return hostname.endsWith('.') ? hostname.slice(0, -1) : hostname;
}

/**
 * Compiles domain patterns: `api.github.com` matches that name only; `*.example.com`
 * matches one or more labels below `example.com` but not `example.com` itself; a lone `*`
 * matches every host name (the network ranges are still enforced).
 *
 * @throws Error naming the pattern that is not a host name or a `*.` wildcard.
 */
export function compileDomains(patterns: readonly string[]): DomainList {
  const exact = new Map<string, string>();
  const suffixes: [suffix: string, pattern: string][] = [];
  let any = false;
  for (const pattern of patterns) {
    if (pattern === '*') {
      any = true;
      continue;
    }
    const wildcard = pattern.startsWith('*.');
    let host: string;
    try {
      host = normaliseHost(wildcard ? pattern.slice(2) : pattern);
    } catch {
      throw new Error(`"${pattern}" is not a host name or a "*." wildcard`);
    }
    if (host.length === 0 || host.includes('*') || host.includes('/')) {
      throw new Error(`"${pattern}" is not a host name or a "*." wildcard`);
    }
    if (wildcard) suffixes.push([`.${host}`, pattern]);
    else exact.set(host, pattern);
  }
  return {
    size: exact.size + suffixes.length + (any ? 1 : 0),
    match(hostname) {
      if (any) return '*';
      const found = exact.get(hostname);
      if (found !== undefined) return found;
      for (const [suffix, pattern] of suffixes) {
        // The label before the suffix must be non-empty: "*.example.com" never matches the apex.
        if (hostname.length > suffix.length && hostname.endsWith(suffix)) return pattern;
      }
      return undefined;
    },
  };
}
