import { isGatewayError } from '../errors.js';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
/** Transient network failures worth another try (undici and libuv codes). */
const RETRY_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/** Methods that may be repeated without changing anything twice. */
export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

export function isRetryableStatus(status: number): boolean {
  return RETRY_STATUS.has(status);
}

/** Network errors only: a refusal of the guard (a GatewayError) is never retried. */
export function isRetryableError(error: unknown): boolean {
  if (isGatewayError(error)) return false;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRY_ERRORS.has(code);
}

/**
 * Delay before retry number `attempt` (0-based), in ms: `Retry-After` when the server sent
 * one (seconds or an HTTP date), else exponential backoff with full jitter in the upper half.
 */
export function backoffMs(attempt: number, baseMs: number, retryAfter?: string | string[], nowMs = Date.now()): number {
  const header = Array.isArray(retryAfter) ? retryAfter[0] : retryAfter;
  if (header !== undefined) {
    const seconds = /^\s*\d+\s*$/.test(header) ? Number(header) : Number.NaN;
    if (Number.isFinite(seconds)) return seconds * 1000;
    const date = Date.parse(header);
    if (Number.isFinite(date)) return Math.max(0, date - nowMs);
  }
  const ceiling = baseMs * 2 ** attempt;
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

/** An abort source shaped like undici's EventEmitter signals. */
export interface AbortSource {
  readonly aborted: boolean;
  readonly reason: unknown;
  once(event: 'abort', listener: () => void): unknown;
  off(event: 'abort', listener: () => void): unknown;
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSource): Promise<void> {
  return new Promise((resolve, reject) => {
    // The abort reason is passed on unchanged, as fetch does, whatever its type.
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
    const fail = (): void => reject(signal.reason);
    if (signal.aborted) return fail();
    const onAbort = (): void => {
      clearTimeout(timer);
      fail();
    };
    const timer = setTimeout(() => {
      signal.off('abort', onAbort);
      resolve();
    }, ms);
    signal.once('abort', onAbort);
  });
}
