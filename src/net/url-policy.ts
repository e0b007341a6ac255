import { compileDomains, type DomainList } from './domains.js';
import { compileNetworks, isBlockedIp, parseIp, type IpAddress, type NetworkList } from './ip.js';
import type { ResolvedAddress } from './resolver.js';

/** What may be reached: the options shared by `checkUrl`, the guarded agent and fetch. */
export interface NetPolicyOptions {
  /**
   * Host names that may be reached: `api.github.com` (exact), `*.example.com` (one or more
   * labels below, not the apex), or `*` (any host name). IP-literal URLs must be listed by
   * their address. Empty refuses every host (default deny).
   * @default []
   */
  allowedDomains?: readonly string[] | undefined;
  /** Host names never reached, even when `allowedDomains` matches. @default [] */
  deniedDomains?: readonly string[] | undefined;
  /** Ports allowed besides 80 and 443. @default [] */
  allowedPorts?: readonly number[] | undefined;
  /**
   * CIDR ranges that may be reached although they are not global unicast, such as
   * `127.0.0.1/32` for a local test server. The only way to reach a private address.
   * @default []
   */
  allowNetworks?: readonly string[] | undefined;
}

/** Why a URL or an address was refused. */
export type NetRefusalCode = 'DOMAIN_NOT_ALLOWED' | 'SSRF_BLOCKED';

/** The verdict on a URL: data, not an exception. */
export interface UrlVerdict {
  allowed: boolean;
  /** Set when refused. */
  code?: NetRefusalCode | 'VALIDATION_FAILED' | 'UPSTREAM_ERROR' | undefined;
  /** Why, safe to log: it names the host and the rule, never the query or credentials. */
  reason: string;
  /** The addresses that were validated (empty when refused before DNS). */
  addresses: readonly ResolvedAddress[];
}

/** The verdict of the checks that need no DNS, with the host they were made on. */
export type StaticVerdict = UrlVerdict & { hostname: string; literal: ResolvedAddress | undefined };

/** A compiled network policy. */
export interface NetPolicy {
  /** Checks everything that needs no DNS: scheme, userinfo, port, domain lists, IP literals. */
  checkStatic(url: URL): StaticVerdict;
  /**
   * {@link checkStatic} for the parts of an http(s) URL without userinfo, its host already
   * lower-cased and without a trailing dot (`ip`: the host parsed as an IP address, if it is one).
   */
  checkHost(hostname: string, port: number, ip: IpAddress | undefined): StaticVerdict;
  /** Checks every address of a DNS answer for `hostname`; one bad address refuses them all. */
  checkAddresses(hostname: string, addresses: readonly ResolvedAddress[]): UrlVerdict;
}

const DEFAULT_PORTS = new Set([80, 443]);

/**
 * Compiles the options once (domain patterns, CIDR ranges).
 *
 * @throws Error naming a malformed domain pattern, CIDR range or port.
 */
export function compileNetPolicy(options: NetPolicyOptions): NetPolicy {
  const allowed: DomainList = compileDomains(options.allowedDomains ?? []);
  const denied: DomainList = compileDomains(options.deniedDomains ?? []);
  const networks: NetworkList = compileNetworks(options.allowNetworks ?? []);
  const ports = new Set(DEFAULT_PORTS);
  for (const port of options.allowedPorts ?? []) {
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`${port} is not a TCP port`);
    ports.add(port);
  }

  function refuse(code: NetRefusalCode, reason: string): UrlVerdict {
    return { allowed: false, code, reason, addresses: [] };
  }

  function checkAddress(address: string): string | undefined {
    const parsed = parseIp(address);
    if (parsed === undefined) return `"${address}" is not an IP address`;
    return checkParsed(parsed);
  }

  function checkParsed(parsed: IpAddress): string | undefined {
    if (isBlockedIp(parsed) && !networks.contains(parsed)) {
      return `${parsed.toString()} (${parsed.range()}), which is not public and not in allowNetworks`;
    }
    return undefined;
  }

  // The reason of an allowed URL depends only on the pattern that allowed it.
  const allowedReasons = new Map<string, string>();
  function allowedBy(listed: string): string {
    let reason = allowedReasons.get(listed);
    if (reason === undefined) {
      reason = `allowed by allowedDomains "${listed}"`;
      if (allowedReasons.size < 1024) allowedReasons.set(listed, reason);
    }
    return reason;
  }

  /** A refusal with the host it was made on (one object literal: this runs per request). */
  function refuseHost(code: NetRefusalCode, reason: string, hostname: string, literal: ResolvedAddress | undefined): StaticVerdict {
    return { allowed: false, code, reason, addresses: [], hostname, literal };
  }

  function checkHost(hostname: string, port: number, ip: IpAddress | undefined): StaticVerdict {
    if (!ports.has(port)) return refuseHost('SSRF_BLOCKED', `port ${port} is not allowed (80, 443 and allowedPorts only)`, '', undefined);
    // A bare IP address must be listed as such: "*" and wildcards are for host names.
    const listed = ip === undefined ? allowed.match(hostname) : allowed.match(hostname) === hostname ? hostname : undefined;
    const deny = denied.match(hostname);
    if (deny !== undefined) return refuseHost('DOMAIN_NOT_ALLOWED', `host ${hostname} is denied by deniedDomains "${deny}"`, hostname, undefined);
    if (listed === undefined) return refuseHost('DOMAIN_NOT_ALLOWED', `host ${hostname} is not in allowedDomains`, hostname, undefined);
    if (ip !== undefined) {
      const literal: ResolvedAddress = { address: ip.kind() === 'ipv4' ? hostname : ip.toString(), family: ip.kind() === 'ipv4' ? 4 : 6 };
      const problem = checkParsed(ip);
      if (problem !== undefined) return refuseHost('SSRF_BLOCKED', `address ${problem}`, hostname, literal);
      return { allowed: true, reason: allowedBy(listed), addresses: [literal], hostname, literal };
    }
    return { allowed: true, reason: allowedBy(listed), addresses: [], hostname, literal: undefined };
  }

  return {
    checkStatic(url) {
      const none = { hostname: '', literal: undefined };
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        return { ...refuse('SSRF_BLOCKED', `scheme ${url.protocol} is not allowed (only http: and https:)`), ...none };
      }
      if (url.username !== '' || url.password !== '') {
        return { ...refuse('SSRF_BLOCKED', 'credentials in the URL (user:password@) are not allowed'), ...none };
      }
      const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port);
      const hostname = url.hostname.endsWith('.') ? url.hostname.slice(0, -1) : url.hostname;
      return checkHost(hostname, port, parseIp(hostname));
    },

    checkHost,

    checkAddresses(hostname, addresses) {
      if (addresses.length === 0) return refuse('SSRF_BLOCKED', `host ${hostname} has no addresses`);
      for (const { address } of addresses) {
        const problem = checkAddress(address);
        if (problem !== undefined) return refuse('SSRF_BLOCKED', `host ${hostname} resolves to ${problem}`);
      }
      return { allowed: true, reason: `every address of ${hostname} is public or in allowNetworks`, addresses };
    },
  };
}
