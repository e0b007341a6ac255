import type { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Agent, buildConnector } from 'undici';
import { undici } from './undici.js';
import { GatewayError } from '../errors.js';
import { parseIp } from './ip.js';
import { systemResolver, type ResolvedAddress, type Resolver } from './resolver.js';
import { compileNetPolicy, type NetPolicy, type NetPolicyOptions } from './url-policy.js';

/** Options of {@link createGuardedAgent}. */
export interface GuardedAgentOptions extends NetPolicyOptions {
  /** DNS resolver; every address it returns is validated. @default the system's */
  resolver?: Resolver | undefined;
  /** Time to open a connection (and finish the TLS handshake), in ms. @default 10000 */
  connectTimeoutMs?: number | undefined;
  /** Connections per origin at most. @default unlimited (undici's default) */
  connectionsPerOrigin?: number | undefined;
  /** How long an idle keep-alive connection is kept, in ms. @default 4000 */
  keepAliveTimeoutMs?: number | undefined;
  /**
   * TLS options for every connection, such as `ca` for a private CA. `servername` is always the
   * URL's host. With `dial` too, the guard runs the TLS handshake itself with these options over
   * the TCP socket `dial` opens (see `dial`).
   */
  tls?: Pick<ConnectionOptions, 'ca' | 'cert' | 'key' | 'minVersion' | 'ciphers'> | undefined;
  /**
   * Opens the socket once the address is validated (undici's connector signature), for tests
   * and instrumentation; the default is undici's own connector. The contract:
   *
   * - It is called with `hostname` set to the validated IP address (never a name) and `host`
   *   keeping the URL's host; it must connect to exactly `hostname`:`port`, without resolving
   *   anything or following a proxy.
   * - The socket it hands back must report that address as its `remoteAddress`: the guard
   *   compares them once connected and destroys a socket connected anywhere else, or one with
   *   no `remoteAddress` (not a TCP socket), failing the request with `SSRF_BLOCKED`.
   * - Without `tls`, it opens `https:` connections itself, handshake included, with its own TLS
   *   settings (as `buildConnector({ ca })` does). With `tls`, it is only ever asked for plain
   *   TCP (`protocol: 'http:'`); the guard then runs the TLS handshake over that socket with
   *   `tls`, verifying the certificate against the URL's host.
   */
  dial?: buildConnector.connector | undefined;
}

/**
 * Creates an undici dispatcher whose connector resolves the host itself, validates *every*
 * address of the answer and dials exactly a validated IP, for http and https alike (the TLS
 * servername stays the host name, so certificates are still verified against it). The address
 * checked is the address connected to, so DNS rebinding has no window: a second, different
 * answer is validated again before its connection is opened. A refusal fails the request with
 * `SSRF_BLOCKED` before any socket exists.
 *
 * Use it as `dispatcher` with undici's `request`/`fetch`, or through `createGuardedFetch`.
 */
export function createGuardedAgent(options: GuardedAgentOptions = {}): Agent {
  const policy = compileNetPolicy(options);
  const resolver = options.resolver ?? systemResolver;
  const timeout = options.connectTimeoutMs ?? 10_000;
  const { Agent, buildConnector } = undici();
  const dial = options.dial ?? buildConnector({ timeout, ...(options.tls ?? {}) });
  // A custom dial with TLS options: dial opens TCP, the guard adds TLS with those options.
  const tlsOver = options.dial !== undefined && options.tls !== undefined ? buildConnector({ timeout, ...options.tls }) : undefined;
  return new Agent({
    connect: guardedConnector(policy, resolver, dial, tlsOver),
    keepAliveTimeout: options.keepAliveTimeoutMs ?? 4000,
    ...(options.connectionsPerOrigin === undefined ? {} : { connections: options.connectionsPerOrigin }),
  });
}

function guardedConnector(policy: NetPolicy, resolver: Resolver, dial: buildConnector.connector, tlsOver: buildConnector.connector | undefined): buildConnector.connector {
  return (opts, callback) => {
    const hostname = opts.hostname; // undici has already removed IPv6 brackets
    const refuse = (reason: string): void =>
      callback(new GatewayError('SSRF_BLOCKED', `Connection refused by the network guard: ${reason}.`, { data: { host: hostname } }), null);
    const connectTo = (addresses: readonly ResolvedAddress[]): void => {
      const verdict = policy.checkAddresses(hostname, addresses);
      if (!verdict.allowed) return refuse(verdict.reason);
      const target = addresses[0] as ResolvedAddress;
      // `host` (and so the TLS servername undici derives from it) keeps the name; only the
      // address dialled changes.
      const pinned = { ...opts, hostname: target.address };
      const upgrade = tlsOver !== undefined && opts.protocol === 'https:';
      dial(upgrade ? { ...pinned, protocol: 'http:' } : pinned, (error: Error | null, socket: Socket | null) => {
        if (error !== null || socket === null) return callback(error ?? new Error('no socket'), null);
        // Belt and braces: the kernel connected where we asked, or the socket goes.
        const remote = socket.remoteAddress;
        if (remote === undefined || parseIp(remote)?.toString() !== parseIp(target.address)?.toString()) {
          socket.destroy();
          return refuse(`connected to an unexpected address`);
        }
        if (!upgrade) return callback(null, socket);
        tlsOver({ ...pinned, httpSocket: socket }, callback);
      });
    };
    const literal = parseIp(hostname);
    if (literal !== undefined) return connectTo([{ address: literal.toString(), family: literal.kind() === 'ipv4' ? 4 : 6 }]);
    resolver(hostname, {}).then(connectTo, (error: unknown) =>
      callback(new GatewayError('UPSTREAM_ERROR', `Host ${hostname} could not be resolved.`, { cause: error, data: { host: hostname } }), null),
    );
  };
}
