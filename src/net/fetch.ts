import { Readable } from 'node:stream';
import { type Dispatcher, Headers, type HeadersInit, Response } from 'undici';
import { GatewayError, isGatewayError } from '../errors.js';
import { createGuardedAgent, type GuardedAgentOptions } from './agent.js';
import { compileDomains, type DomainList } from './domains.js';
import { headerProblem, SENSITIVE_HEADERS, TRANSPORT_HEADERS } from './headers.js';
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
   * Headers the host adds at send time for a domain (same patterns as `allowedDomains`),
   * such as `{ 'api.github.com': { authorization: 'Bearer …' } }`. They are never shown to the
   * agent, never logged, and never sent to a hop whose host the pattern does not match.
   */
  injectHeaders?: Readonly<Record<string, Readonly<Record<string, string>>>> | undefined;
  /** Share a dispatcher (made by `createGuardedAgent`) instead of creating one. */
  agent?: Dispatcher | undefined;
}

/** `RequestInit` as the guarded fetch understands it. */
export interface GuardedRequestInit {
  method?: string | undefined;
  headers?: HeadersInit | Record<string, string> | undefined;
  body?: string | Uint8Array | ArrayBuffer | URLSearchParams | null | undefined;
  signal?: AbortSignal | null | undefined;
  /** `follow` (default) re-checks every hop; `manual` returns the 3xx; `error` refuses it. */
  redirect?: 'follow' | 'manual' | 'error' | undefined;
  /** Per-request override of the size limit, in bytes. */
  maxBytes?: number | false | undefined;
  /** Per-request override of the retry count; 0 for requests that must not be repeated. */
  retries?: number | undefined;
}

/** A fetch-compatible function behind the network guard. */
export interface GuardedFetch extends AsyncDisposable {
  (input: string | URL | Request, init?: GuardedRequestInit): Promise<Response>;
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
  const injections = compileInjections(options.injectHeaders ?? {});

  function injectedFor(hostname: string): HeaderMap | undefined {
    let found: HeaderMap | undefined;
    for (const [domains, headers] of injections) {
      if (domains.match(hostname) !== undefined) found = { ...found, ...headers };
    }
    return found;
  }

  /** One request/response on one hop, with retries. Resolves with the undici response. */
  async function attempt(x: Exchange, signal: AbortSignal, hostname: string): Promise<Dispatcher.ResponseData> {
    const injected = injectedFor(hostname);
    const headers = injected === undefined ? x.headers : { ...x.headers, ...injected };
    const retryable = isIdempotent(x.method) && injected === undefined && !Object.keys(x.headers).some((h) => SENSITIVE_HEADERS.has(h));
    for (let tries = 0; ; tries++) {
      const canRetry = retryable && tries < x.retries;
      let response: Dispatcher.ResponseData;
      try {
        response = await dispatcher.request({
          origin: x.url.origin,
          path: `${x.url.pathname}${x.url.search}`,
          method: x.method as Dispatcher.HttpMethod,
          headers,
          body: x.body ?? null,
          signal,
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
          response.body.destroy();
          await sleep(delayMs, signal);
          continue;
        }
      }
      return response;
    }
  }

  async function exchange(x: Exchange): Promise<Response> {
    const deadline = new Deadline(x.signal, timeoutMs, totalTimeoutMs);
    try {
      let redirects = 0;
      for (;;) {
        const verdict = policy.checkStatic(x.url);
        if (!verdict.allowed) {
          throw new GatewayError(verdict.code === 'DOMAIN_NOT_ALLOWED' ? 'DOMAIN_NOT_ALLOWED' : 'SSRF_BLOCKED', `Request refused: ${verdict.reason}.`, {
            data: { origin: x.url.origin },
          });
        }
        deadline.startHop();
        const response = await attempt(x, deadline.signal, verdict.hostname);
        const location = x.redirect === 'manual' ? undefined : redirectTarget(response.statusCode, response.headers, x.url);
        if (location === undefined) return toResponse(response, x, deadline);
        response.body.destroy();
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

  const guarded = (async (input: string | URL | Request, init: GuardedRequestInit = {}) => {
    const x = await prepare(input, init, defaultRetries, defaultMaxBytes);
    return exchange(x);
  }) as GuardedFetch;
  guarded.close = async () => {
    if (ownAgent) await dispatcher.close();
  };
  guarded[Symbol.asyncDispose] = guarded.close;
  return guarded;
}

function compileInjections(config: Readonly<Record<string, Readonly<Record<string, string>>>>): [DomainList, HeaderMap][] {
  return Object.entries(config).map(([pattern, headers]) => {
    const lower: HeaderMap = {};
    for (const [name, value] of Object.entries(headers)) {
      const problem = headerProblem(name, value);
      if (problem !== undefined) throw new GatewayError('CONFIG_INVALID', `injectHeaders["${pattern}"]: ${problem}.`);
      lower[name.toLowerCase()] = value;
    }
    return [compileDomains([pattern]), lower];
  });
}

/** Normalises fetch's arguments into one exchange; refuses what cannot be sent safely. */
async function prepare(input: string | URL | Request, init: GuardedRequestInit, retries: number, maxBytes: number | false): Promise<Exchange> {
  const request = typeof input === 'object' && !(input instanceof URL) ? input : undefined;
  let url: URL;
  try {
    url = new URL(request?.url ?? String(input));
  } catch {
    throw new GatewayError('VALIDATION_FAILED', 'The URL is not a valid absolute URL.');
  }
  const method = (init.method ?? request?.method ?? 'GET').toUpperCase();
  if (!/^[A-Z]{1,16}$/.test(method) || method === 'CONNECT' || method === 'TRACE') {
    throw new GatewayError('VALIDATION_FAILED', `Method ${JSON.stringify(method.slice(0, 16))} is not allowed.`);
  }
  const headers: HeaderMap = {};
  for (const [name, value] of new Headers((init.headers ?? request?.headers) as HeadersInit | undefined)) {
    if (TRANSPORT_HEADERS.has(name)) throw new GatewayError('VALIDATION_FAILED', `Header ${name} is set by the client and may not be given.`);
    headers[name] = value;
  }
  let body: Body;
  const raw = init.body !== undefined ? init.body : request?.body != null ? Buffer.from(await request.arrayBuffer()) : undefined;
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
    redirect: init.redirect ?? (request?.redirect as Exchange['redirect'] | undefined) ?? 'follow',
    maxBytes: limit === false ? undefined : limit,
    retries: init.retries ?? retries,
    signal: init.signal ?? request?.signal ?? undefined,
  };
}

/** Wraps undici's response in a fetch `Response`; the deadline keeps running until the body ends. */
function toResponse(response: Dispatcher.ResponseData, x: Exchange, deadline: Deadline): Response {
  const headers: [string, string][] = [];
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) headers.push([name, item]);
    else headers.push([name, value]);
  }
  let body: ReadableStream<Uint8Array> | null = null;
  if (NULL_BODY_STATUS.has(response.statusCode) || x.method === 'HEAD') {
    response.body.destroy();
    deadline.clear();
  } else {
    response.body.once('close', () => deadline.clear());
    body = Readable.toWeb(response.body) as ReadableStream<Uint8Array>;
  }
  const result = new Response(body, { status: response.statusCode, headers });
  Object.defineProperty(result, 'url', { value: x.url.href });
  return result;
}

/**
 * The clocks of one exchange: a per-hop timer restarted at each hop and one total deadline,
 * both aborting the same controller (and so the socket), plus the caller's signal.
 */
class Deadline {
  readonly #controller = new AbortController();
  readonly #hopMs: number;
  readonly #caller: AbortSignal | undefined;
  #hopTimer: NodeJS.Timeout | undefined;
  #totalTimer: NodeJS.Timeout | undefined;
  readonly #onCallerAbort = (): void => this.#controller.abort(this.#caller?.reason);

  constructor(caller: AbortSignal | undefined, hopMs: number, totalMs: number) {
    this.#hopMs = hopMs;
    this.#caller = caller;
    if (caller?.aborted === true) this.#controller.abort(caller.reason);
    caller?.addEventListener('abort', this.#onCallerAbort, { once: true });
    this.#totalTimer = setTimeout(() => this.#abort(`The request did not complete within ${totalMs} ms in total.`, totalMs), totalMs);
    this.#totalTimer.unref();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  startHop(): void {
    clearTimeout(this.#hopTimer);
    this.#hopTimer = setTimeout(() => this.#abort(`A hop did not complete within ${this.#hopMs} ms.`, this.#hopMs), this.#hopMs);
    this.#hopTimer.unref();
  }

  #abort(message: string, timeoutMs: number): void {
    this.#controller.abort(new GatewayError('TIMEOUT', message, { data: { timeoutMs } }));
  }

  clear(): void {
    clearTimeout(this.#hopTimer);
    clearTimeout(this.#totalTimer);
    this.#caller?.removeEventListener('abort', this.#onCallerAbort);
  }

  /** Maps a failure to what the caller should see: the abort reason, a GatewayError, or UPSTREAM_ERROR. */
  explain(error: unknown, url: URL): unknown {
    if (this.#controller.signal.aborted) return this.#controller.signal.reason;
    if (isGatewayError(error)) return error;
    const code = (error as { code?: unknown }).code;
    return new GatewayError('UPSTREAM_ERROR', `The request to ${url.origin} failed${typeof code === 'string' ? ` (${code})` : ''}.`, {
      cause: error,
      data: { origin: url.origin },
    });
  }
}
