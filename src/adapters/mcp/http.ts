import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Gateway } from '../../gateway.js';
import { GatewayError } from '../../errors.js';
import { createMemoryRateLimitStore } from '../../policy/rate-limit.js';
import { parseIp } from '../../net/ip.js';
import { toolNameMap, type McpToolNames } from './names.js';
import { registerGatewayTools } from './tools.js';

/** Options of {@link serveMcpHttp}. */
export interface McpHttpOptions {
  /** Address to bind. Anything but loopback is warned about. @default '127.0.0.1' */
  host?: string | undefined;
  /** @default 0 (a free port) */
  port?: number | undefined;
  /**
   * `Host` header values accepted (`name:port`). A page served elsewhere that rebinds its DNS to
   * this machine sends its own host name and is refused. @default the bound address and localhost, with the port
   */
  allowedHosts?: readonly string[] | undefined;
  /** `Origin` values accepted; requests without an Origin (not from a browser) pass. @default none */
  allowedOrigins?: readonly string[] | undefined;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  bearerToken?: string | undefined;
  /**
   * Requests per client address in any 60 s; each message of a JSON-RPC batch counts as one,
   * and a batch larger than the limit is refused. Requests refused for their Host, Origin or
   * token (and CORS preflights) are counted apart, against the same limit, so they cannot use
   * up the limit of the token holder. @default 100
   */
  maxRequestsPerMinute?: number | undefined;
  /** Largest request body, in bytes. @default 102400 */
  maxBodyBytes?: number | undefined;
  /** Origins answered with CORS headers; `*` is allowed with a warning. @default none (CORS off) */
  corsOrigins?: readonly string[] | undefined;
  /** Server name and version announced to clients. */
  name?: string | undefined;
  version?: string | undefined;
  /** The actor recorded for calls. @default 'mcp-http' */
  actor?: string | undefined;
  warn?: ((message: string) => void) | undefined;
  /** How tool names are shown: see {@link McpAdapterOptions.toolNames}. @default 'dotted' */
  toolNames?: McpToolNames | undefined;
  /**
   * Whether `GET /ready` answers 200 (else 503). `GET /health` answers 200 while the process
   * serves. Both need no Host, Origin or token and say nothing else.
   * @default the audit trail is healthy (`gw.audit.health()`)
   */
  ready?: (() => boolean) | undefined;
}

/** A running MCP HTTP endpoint. */
export interface McpHttpServer extends AsyncDisposable {
  /** `http://host:port/mcp`. */
  url: string;
  close(): Promise<void>;
}

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
};

/**
 * Answers with a JSON-RPC error. `close` ends the connection after the answer (`Connection:
 * close`): for a request whose body is left unread, so it is not read on for keep-alive.
 */
function refuse(res: ServerResponse, status: number, message: string, close = false): void {
  if (res.headersSent) return;
  if (close) res.setHeader('connection', 'close');
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/** Liveness and readiness probes: a fixed body, no details (no sink names, no errors, no versions). */
function probe(req: IncomingMessage, res: ServerResponse, path: '/health' | '/ready', ready: () => boolean): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'Method not allowed.', true);
  let up = true;
  if (path === '/ready') {
    try {
      up = ready();
    } catch {
      up = false;
    }
  }
  res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' }).end(req.method === 'HEAD' ? undefined : up ? '{"status":"ok"}' : '{"status":"unavailable"}');
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Reads a JSON body of at most `maxBytes`, or undefined after answering 413/400. A body over
 * the limit (declared, or found while reading a chunked one) is answered at once with
 * `Connection: close`; Node then closes the socket once the answer is sent.
 */
function readBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<unknown> {
  const tooLarge = `Request body over ${maxBytes} bytes.`;
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    refuse(res, 413, tooLarge, true);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= maxBytes) return void chunks.push(chunk);
      // Not destroyed here: the 413 is sent first, and the unread rest is dropped until the
      // socket closes behind it.
      stop();
      refuse(res, 413, tooLarge, true);
      resolve(undefined);
    };
    const onEnd = (): void => {
      stop();
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        refuse(res, 400, 'The body is not JSON.');
        resolve(undefined);
      }
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', () => {
      stop();
      resolve(undefined);
    });
  });
}

/** JSON-RPC messages in a body: a batch counts each of its messages (at least one). */
function messageCount(body: unknown): number {
  return Array.isArray(body) ? Math.max(1, body.length) : 1;
}

/**
 * Serves the gateway's tools as MCP over HTTP (streamable HTTP, stateless), hardened as the
 * payments security guide asks and beyond it: loopback by default, per-address sliding-window
 * rate limit (forwarded-for headers ignored), security headers on every response, a body size
 * limit, CORS off unless configured, a Host and Origin allowlist against DNS rebinding, and an
 * optional bearer token.
 *
 * @throws GatewayError `CONFIG_INVALID` for a bad option.
 */
export async function serveMcpHttp(gw: Gateway, options: McpHttpOptions = {}): Promise<McpHttpServer> {
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'PORTCULLIS_MCP' }));
  const host = options.host ?? '127.0.0.1';
  const address = parseIp(host);
  if (address === undefined && host !== 'localhost') throw new GatewayError('CONFIG_INVALID', 'serveMcpHttp: host must be an IP address or localhost.');
  if (address !== undefined && address.range() !== 'loopback') {
    warn(`The MCP endpoint binds ${host}, not loopback: anything that can reach this address can call the tools. Put it behind TLS and keep the bearer token set.`);
  }
  if (options.corsOrigins?.includes('*') === true) warn('CORS allows every origin (*): any web page can call this endpoint from a browser.');
  if (process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') warn('NODE_TLS_REJECT_UNAUTHORIZED=0 disables certificate checks for this process, which re-opens DNS rebinding over HTTPS.');
  const limits = { maxCalls: options.maxRequestsPerMinute ?? 100, windowMs: 60_000 };
  const rateLimits = createMemoryRateLimitStore({ maxKeys: 10_000 });
  const maxBodyBytes = options.maxBodyBytes ?? 100 * 1024;
  const toolNames = options.toolNames ?? 'dotted';
  // A name collision is a configuration error: refused before the port opens.
  if (toolNames !== 'dotted') toolNameMap(gw.listTools(), toolNames);
  const ready = options.ready ?? (() => gw.audit.health().healthy);

  let allowedHosts: ReadonlySet<string> = new Set(options.allowedHosts ?? []);
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const corsOrigins = new Set(options.corsOrigins ?? []);

  /** Host, Origin (with CORS) and token checks; the refusal, if any. Answers a CORS preflight itself. */
  function admit(req: IncomingMessage, res: ServerResponse): { status: number; message: string } | 'preflight' | undefined {
    if (!allowedHosts.has((req.headers.host ?? '').toLowerCase())) return { status: 403, message: 'Host not allowed.' };
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin) && !corsOrigins.has(origin) && !corsOrigins.has('*')) return { status: 403, message: 'Origin not allowed.' };
    if (origin !== undefined && (corsOrigins.has(origin) || corsOrigins.has('*'))) {
      res.setHeader('access-control-allow-origin', corsOrigins.has('*') ? '*' : origin);
      res.setHeader('vary', 'Origin');
      res.setHeader('access-control-allow-headers', 'content-type, authorization, mcp-session-id, mcp-protocol-version');
      res.setHeader('access-control-allow-methods', 'POST, GET, DELETE, OPTIONS');
      // A preflight carries no credentials: it is answered, counted with the refused requests.
      if (req.method === 'OPTIONS') return 'preflight';
    }
    if (options.bearerToken !== undefined) {
      const header = req.headers.authorization ?? '';
      if (!header.startsWith('Bearer ') || !sameSecret(header.slice(7), options.bearerToken)) {
        res.setHeader('www-authenticate', 'Bearer');
        return { status: 401, message: 'Missing or wrong bearer token.' };
      }
    }
    return undefined;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    // The socket's address, never X-Forwarded-For: there is no trusted proxy in front.
    const client = req.socket.remoteAddress ?? 'unknown';
    // Probes come from orchestrators that know neither the Host we accept nor the token: they
    // are answered before those checks, rate-limited in a bucket of their own, and say only up or down.
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/health' || path === '/ready') {
      if (!rateLimits.tryHit(`probe ${client}`, limits, Date.now())) return refuse(res, 429, 'Too many requests.', true);
      return probe(req, res, path, ready);
    }
    // Host, Origin and token first: requests that fail them (and preflights) are counted in a
    // bucket of their own, so a flood of them cannot use up the limit of the token holder.
    const refusal = admit(req, res);
    if (refusal !== undefined) {
      if (!rateLimits.tryHit(`refused ${client}`, limits, Date.now())) return refuse(res, 429, 'Too many refused requests.', true);
      if (refusal === 'preflight') return void res.writeHead(204).end();
      return refuse(res, refusal.status, refusal.message, true);
    }
    if (!rateLimits.tryHit(`client ${client}`, limits, Date.now())) return refuse(res, 429, 'Too many requests.', true);
    if (path !== '/mcp') return refuse(res, 404, 'Not found: the endpoint is /mcp.', true);
    if (req.method !== 'POST') return refuse(res, 405, 'Method not allowed (stateless endpoint: POST only).', true);
    const body = await readBody(req, res, maxBodyBytes);
    if (body === undefined) return;
    // Each message of a JSON-RPC batch is charged (the request itself paid for the first):
    // a batch of 100 tools/call is 100 calls, not one request.
    const messages = messageCount(body);
    if (messages > limits.maxCalls) return refuse(res, 429, `A batch of ${messages} messages is over the limit of ${limits.maxCalls} per minute.`);
    for (let i = 1; i < messages; i++) {
      if (!rateLimits.tryHit(`client ${client}`, limits, Date.now())) return refuse(res, 429, 'Too many requests (each message of a batch counts).');
    }
    // Stateless: a server and transport per request, so no session state can leak between clients.
    const server = new McpServer({ name: options.name ?? 'portcullis', version: options.version ?? '0.1.0' });
    registerGatewayTools(server, gw, { actor: options.actor ?? 'mcp-http', toolNames });
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  const http: Server = createServer((req, res) => {
    handle(req, res).catch(() => refuse(res, 500, 'Internal error.'));
  });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = http.address() as AddressInfo;
  const hostPart = address?.kind() === 'ipv6' ? `[${host}]` : host;
  if (options.allowedHosts === undefined) allowedHosts = new Set([`${hostPart}:${port}`, `localhost:${port}`]);
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      http.closeAllConnections();
      http.close(() => resolve());
    });
  return { url: `http://${hostPart}:${port}/mcp`, close, [Symbol.asyncDispose]: close };
}
