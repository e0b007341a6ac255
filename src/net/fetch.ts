import { EventEmitter } from 'node:events';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher, HeadersInit, Response } from 'undici';
import { undici } from './undici.js';
import { GatewayError, isGatewayError } from '../errors.js';
import { createGuardedAgent, type GuardedAgentOptions } from './agent.js';
import { headerProblem, isCredentialHeader, isSpoofingHeader, isTransportHeader, spoofingRefusal } from './headers.js';
import { compileInjections } from './inject.js';
import { nextHop, redirectTarget } from './redirect.js';
import { backoffMs, isIdempotent, isRetryableError, isRetryableStatus, sleep } from './retry.js';
import { MAX_RESPONSE_BYTES, sizeLimit } from './size-limit.js';
import { compileNetPolicy } from './url-policy.js';

/** Options of {@link createGuardedFetch}. */
export interface GuardedFetchOptions extends GuardedAgentOptions {
  /** Limit of each hop (connect, headers and body), in ms. @default 30000 */
  timeoutMs?: number | undefined;
  /** Limit of the whole exchange: every hop, retry and backoff, and the body, in ms. @default 60000 */
  totalTimeoutMs?: number | undefined;
  /** Redirects followed at most. @default 5 */
  maxRedirects?: number | undefined;
  /** Largest response body, in bytes; `false` for none. @default 10485760 (10 MiB) */
  maxBytes?: number | false | undefined;
  /** Retries of an idempotent request without credentials (network errors, 5xx, 429). @default 2 */
  retries?: number | undefined;
  /** First backoff delay, doubled each retry, with jitter, in ms. @default 200 */
  retryBaseMs?: number | undefined;
  /** Longest `Retry-After` honoured; a longer one is not retried, in ms. @default 5000 */
  maxRetryAfterMs?: number | undefined;
  /**
   * Headers the host adds at send time, such as `{ 'api.github.com': { authorization: 'Bearer …' } }`.
   * A key is a host pattern (as in `allowedDomains`), which means `https://` on port 443 only,
   * or an origin, `https://api.example.com:8443` or `http://localhost:8080`, for exactly that
   * scheme, host and port. They are never shown to the agent, never logged, and never sent to a
   * hop whose origin the key does not match (so never over plain http unless an `http://`
   * origin is named, which is warned about). A bare `host:port` key is `CONFIG_INVALID`.
   */
  injectHeaders?: Readonly<Record<string, Readonly<Record<string, string>>>> | undefined;
  /** Told about risky settings (an `http://` origin in `injectHeaders`). @default `process.emitWarning` */
  warn?: ((message: string) => void) | undefined;
  /** Share a dispatcher (made by `createGuardedAgent`) instead of creating one. */
  agent?: Dispatcher | undefined;
}

/** `RequestInit` as the guarded fetch understands it. */
export interface GuardedRequestInit {
  method?: string | undefined;
  headers?: HeadersInit | Record<string, string> | undefined;
  body?: string | Uint8Array | ArrayBuffer | URLSearchParams | null | undefined;
  signal?: AbortSignal | null | undefined;
  /** Called with the URL and method of every hop (redirects included) before it is sent; throw to refuse it. */
  onHop?: ((url: URL, method: string) => void) | undefined;
  /** `follow` (default) re-checks every hop; `manual` returns the 3xx; `error` refuses it. */
  redirect?: 'follow' | 'manual' | 'error' | undefined;
  /** Per-request override of the size limit, in bytes. */
  maxBytes?: number | false | undefined;
  /** Per-request override of the retry count; 0 for requests that must not be repeated. */
  retries?: number | undefined;
}

/** What {@link GuardedFetch.request} resolves with: undici's `request` shape, after every check. */
export interface GuardedResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  /** The body stream; it errors with `RESPONSE_TOO_LARGE` or `TIMEOUT` when a limit is hit. */
  body: Dispatcher.ResponseData['body'];
  /** The final URL, after redirects. */
  url: string;
}

/** A fetch-compatible function behind the network guard. */
export interface GuardedFetch extends AsyncDisposable {
  (input: string | URL | Request, init?: GuardedRequestInit): Promise<Response>;
  /**
   * The same guarded exchange without building a fetch `Response`: undici's `request` shape.
   * Cheaper, for hosts (and tools) that read the body themselves.
   */
  request(input: string | URL | Request, init?: GuardedRequestInit): Promise<GuardedResponse>;
  /** Closes the connections (when the agent was created here). */
  close(): Promise<void>;
}

type HeaderMap = Record<string, string>;
type Body = string | Buffer | undefined;

interface Exchange {
  url: URL;
  method: string;
  headers: HeaderMap;
  body: Body;
  redirect: 'follow' | 'manual' | 'error';
  maxBytes: number | undefined;
  retries: number;
  signal: AbortSignal | undefined;
  onHop: ((url: URL, method: string) => void) | undefined;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * Creates a fetch that cannot reach internal networks: every hop is checked in full (scheme,
 * port, domain lists, DNS answer, address ranges) and connections are pinned to the validated
 * address. It follows redirects itself (HTTPS→HTTP refused, credentials stripped when the
 * origin changes), retries only what is safe to repeat, enforces a per-hop and a total
 * deadline that abort the socket, and stops reading a body at `maxBytes`.
 *
 * @throws GatewayError (rejects) `DOMAIN_NOT_ALLOWED`, `SSRF_BLOCKED`, `REDIRECT_BLOCKED`,
 *   `RESPONSE_TOO_LARGE` (also from the body stream), `TIMEOUT`, `UPSTREAM_ERROR`,
 *   `VALIDATION_FAILED`; the caller's own abort reason when its signal aborts.
 * @example
 * ```ts
 * await using guarded = createGuardedFetch({ allowedDomains: ['api.github.com'] });
 * const res = await guarded('https://api.github.com/repos/nodejs/undici');
 * ```
 */
export function createGuardedFetch(options: GuardedFetchOptions = {}): GuardedFetch {
  const policy = compileNetPolicy(options);
  const ownAgent = options.agent === undefined;
  const dispatcher = (options.agent ?? createGuardedAgent(options)).compose(sizeLimit());
  const timeoutMs = options.timeoutMs ?? 30_000;
  const totalTimeoutMs = options.totalTimeoutMs ?? 60_000;
  const maxRedirects = options.maxRedirects ?? 5;
  const defaultMaxBytes = options.maxBytes ?? 10 * 1024 * 1024;
  const defaultRetries = options.retries ?? 2;
  const retryBaseMs = options.retryBaseMs ?? 200;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 5000;
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'PORTCULLIS' }));
  const injectedFor = compileInjections(options.injectHeaders ?? {}, warn);

  /** One request/response on one hop, with retries. Resolves with the undici response. */
  async function attempt(x: Exchange, signal: Deadline, hostname: string): Promise<Dispatcher.ResponseData> {
    const injected = injectedFor(x.url, hostname);
    const headers = injected === undefined ? x.headers : { ...x.headers, ...injected };
    const retryable = isIdempotent(x.method) && injected === undefined && !Object.keys(x.headers).some((h) => isCredentialHeader(h));
    for (let tries = 0; ; tries++) {
      const canRetry = retryable && tries < x.retries;
      let response: Dispatcher.ResponseData;
      try {
        response = await dispatcher.request({
          origin: x.url.origin,
          path: `${x.url.pathname}${x.url.search}`,
          method: x.method,
          headers,
          body: x.body ?? null,
          signal: signal,
          [MAX_RESPONSE_BYTES]: x.maxBytes,
        } as Dispatcher.RequestOptions);
      } catch (error) {
        if (!canRetry || signal.aborted || !isRetryableError(error)) throw error;
        await sleep(backoffMs(tries, retryBaseMs), signal);
        continue;
      }
      if (canRetry && isRetryableStatus(response.statusCode)) {
        const delayMs = backoffMs(tries, retryBaseMs, response.headers['retry-after'], Date.now());
        if (delayMs <= maxRetryAfterMs) {
          discard(response.body);
          await sleep(delayMs, signal);
          continue;
        }
      }
      return response;
    }
  }

  async function exchange(x: Exchange): Promise<GuardedResponse> {
    const deadline = new Deadline(x.signal, timeoutMs, totalTimeoutMs);
    try {
      let redirects = 0;
      for (;;) {
        x.onHop?.(x.url, x.method);
        const verdict = policy.checkStatic(x.url);
        if (!verdict.allowed) {
          throw new GatewayError(verdict.code === 'DOMAIN_NOT_ALLOWED' ? 'DOMAIN_NOT_ALLOWED' : 'SSRF_BLOCKED', `Request refused: ${verdict.reason}.`, {
            data: { origin: x.url.origin },
          });
        }
        deadline.startHop();
        const response = await attempt(x, deadline, verdict.hostname);
        const location = x.redirect === 'manual' ? undefined : redirectTarget(response.statusCode, response.headers, x.url);
        if (location === undefined) return finish(response, x, deadline);
        discard(response.body);
        if (x.redirect === 'error') throw new GatewayError('REDIRECT_BLOCKED', `Redirect from ${x.url.origin} refused (redirect: "error").`);
        if (++redirects > maxRedirects) {
          throw new GatewayError('REDIRECT_BLOCKED', `More than ${maxRedirects} redirects starting at ${x.url.origin}.`, { data: { maxRedirects } });
        }
        Object.assign(x, nextHop(x, response.statusCode, location));
      }
    } catch (error) {
      deadline.clear();
      throw deadline.explain(error, x.url);
    }
  }

  function request(input: string | URL | Request, init: GuardedRequestInit = {}): Promise<GuardedResponse> {
    try {
      const x = prepare(input, init, defaultRetries, defaultMaxBytes);
      return x instanceof Promise ? x.then(exchange) : exchange(x);
    } catch (error) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a GatewayError, passed on as thrown
      return Promise.reject(error);
    }
  }
  const guarded = ((input: string | URL | Request, init?: GuardedRequestInit) => request(input, init).then(toResponse)) as GuardedFetch;
  guarded.request = request;
  guarded.close = async () => {
    if (ownAgent) await dispatcher.close();
  };
  guarded[Symbol.asyncDispose] = () => guarded.close();
  return guarded;
}

/**
 * Normalises fetch's arguments into one exchange; refuses what cannot be sent safely.
 * Synchronous unless a `Request` body has to be read.
 */
function prepare(input: string | URL | Request, init: GuardedRequestInit, retries: number, maxBytes: number | false): Exchange | Promise<Exchange> {
  if (typeof input === 'string' || input instanceof URL || input.body === null || init.body !== undefined) {
    return build(input, init, init.body, retries, maxBytes);
  }
  return input.arrayBuffer().then((bytes) => build(input, init, bytes, retries, maxBytes));
}

function build(input: string | URL | Request, init: GuardedRequestInit, raw: GuardedRequestInit['body'], retries: number, maxBytes: number | false): Exchange {
  const request = typeof input === 'string' || input instanceof URL ? undefined : input;
  let url: URL;
  try {
    url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
  } catch {
    throw new GatewayError('VALIDATION_FAILED', 'The URL is not a valid absolute URL.');
  }
  const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
  if (!/^[A-Z]{1,16}$/.test(method) || method === 'CONNECT' || method === 'TRACE') {
    throw new GatewayError('VALIDATION_FAILED', `Method ${JSON.stringify(method.slice(0, 16))} is not allowed.`);
  }
  const headers = headerMap(init.headers ?? request?.headers);
  let body: Body;
  if (typeof raw === 'string') {
    body = raw;
    headers['content-type'] ??= 'text/plain;charset=UTF-8';
  } else if (raw instanceof URLSearchParams) {
    body = raw.toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
  } else if (raw instanceof ArrayBuffer || raw instanceof Uint8Array) {
    body = Buffer.from(raw instanceof ArrayBuffer ? new Uint8Array(raw) : raw);
  } else if (raw !== null && raw !== undefined) {
    throw new GatewayError('VALIDATION_FAILED', 'The body must be a string, bytes or URLSearchParams.');
  }
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) {
    throw new GatewayError('VALIDATION_FAILED', `A ${method} request cannot have a body.`);
  }
  const limit = init.maxBytes ?? maxBytes;
  return {
    url,
    method,
    headers,
    body,
    redirect: init.redirect ?? (request?.redirect) ?? 'follow',
    maxBytes: limit === false ? undefined : limit,
    retries: init.retries ?? retries,
    signal: init.signal ?? request?.signal ?? undefined,
    onHop: init.onHop,
  };
}

/** Lower-cased, validated headers; transport headers are refused. */
function headerMap(init: GuardedRequestInit['headers'] | Request['headers'] | undefined): HeaderMap {
  const headers: HeaderMap = {};
  if (init === undefined) return headers;
  // A plain object is read directly: building a Headers object costs more than the request.
  const entries = typeof init === 'object' && Object.getPrototypeOf(init) === Object.prototype ? Object.entries(init as Record<string, string>) : new (undici().Headers)(init as HeadersInit);
  for (const [rawName, value] of entries) {
    const name = rawName.toLowerCase();
    const problem = headerProblem(name, String(value));
    if (problem !== undefined) throw new GatewayError('VALIDATION_FAILED', `Invalid request: ${problem}.`);
    if (isTransportHeader(name)) throw new GatewayError('VALIDATION_FAILED', `Header ${name} is set by the client and may not be given.`);
    if (isSpoofingHeader(name)) throw spoofingRefusal(name);
    headers[name] = headers[name] === undefined ? String(value) : `${headers[name]}, ${String(value)}`;
  }
  return headers;
}

const discarded = new WeakSet<object>();

/** Reads and drops a body we do not need (small ones keep the connection reusable). */
function discard(body: Dispatcher.ResponseData['body']): void {
  discarded.add(body);
  body.dump({ limit: 64 * 1024 }).catch(() => undefined);
}

/** The final response; the deadline keeps running until its body is read or dropped. */
function finish(response: Dispatcher.ResponseData, x: Exchange, deadline: Deadline): GuardedResponse {
  if (NULL_BODY_STATUS.has(response.statusCode) || x.method === 'HEAD') {
    discard(response.body);
    deadline.clear();
  } else {
    response.body.once('close', () => deadline.clear());
  }
  return { statusCode: response.statusCode, headers: response.headers, body: response.body, url: x.url.href };
}

/** Wraps a guarded response in a fetch `Response`. */
function toResponse(response: GuardedResponse): Response {
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.push([name, item]);
    else headers.push([name, value]);
  }
  const hasBody = !discarded.has(response.body) && !NULL_BODY_STATUS.has(response.statusCode);
  const body = hasBody ? (Readable.toWeb(response.body) as ReadableStream<Uint8Array>) : null;
  const result = new (undici().Response)(body, { status: response.statusCode, headers });
  Object.defineProperty(result, 'url', { value: response.url });
  return result;
}

/**
 * The clocks of one exchange: a per-hop timer restarted at each hop and one total deadline,
 * plus the caller's signal. It is itself the signal handed to undici, which accepts an
 * EventEmitter with `aborted` and `reason`: an AbortController per request costs more than
 * the rest of the guard together.
 */
class Deadline extends EventEmitter {
  aborted = false;
  reason: unknown = undefined;
  readonly #hopMs: number;
  readonly #caller: AbortSignal | undefined;
  #hopTimer: NodeJS.Timeout | undefined;
  #totalTimer: NodeJS.Timeout | undefined;
  readonly #onCallerAbort = (): void => this.abort(this.#caller?.reason);

  constructor(caller: AbortSignal | undefined, hopMs: number, totalMs: number) {
    super();
    this.#hopMs = hopMs;
    this.#caller = caller;
    if (caller?.aborted === true) this.abort(caller.reason);
    caller?.addEventListener('abort', this.#onCallerAbort, { once: true });
    this.#totalTimer = setTimeout(() => this.#timeout(`The request did not complete within ${totalMs} ms in total.`, totalMs), totalMs);
    this.#totalTimer.unref();
  }

  startHop(): void {
    clearTimeout(this.#hopTimer);
    this.#hopTimer = setTimeout(() => this.#timeout(`A hop did not complete within ${this.#hopMs} ms.`, this.#hopMs), this.#hopMs);
    this.#hopTimer.unref();
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.clear();
    this.emit('abort');
  }

  #timeout(message: string, timeoutMs: number): void {
    this.abort(new GatewayError('TIMEOUT', message, { data: { timeoutMs } }));
  }

  clear(): void {
    clearTimeout(this.#hopTimer);
    clearTimeout(this.#totalTimer);
    this.#caller?.removeEventListener('abort', this.#onCallerAbort);
  }

  /** Maps a failure to what the caller should see: the abort reason, a GatewayError, or UPSTREAM_ERROR. */
  explain(error: unknown, url: URL): unknown {
    if (this.aborted) return this.reason;
    if (isGatewayError(error)) return error;
    const code = (error as { code?: unknown }).code;
    return new GatewayError('UPSTREAM_ERROR', `The request to ${url.origin} failed${typeof code === 'string' ? ` (${code})` : ''}.`, {
      cause: error,
      data: { origin: url.origin },
    });
  }
}
