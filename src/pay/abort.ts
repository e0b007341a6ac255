import { GatewayError, isGatewayError } from '../errors.js';

/**
 * The caller's abort as a GatewayError: the call's own `TIMEOUT` or `ABORTED` when it stopped
 * with one, `TIMEOUT` for `AbortSignal.timeout`, else `ABORTED`. Never a raw DOMException.
 */
export function abortError(signal: AbortSignal, stage: string): GatewayError {
  const reason: unknown = signal.reason;
  const timedOut = (isGatewayError(reason) && reason.code === 'TIMEOUT') || (reason instanceof Error && reason.name === 'TimeoutError');
  return new GatewayError(timedOut ? 'TIMEOUT' : 'ABORTED', `The call was ${timedOut ? 'out of time' : 'aborted'} ${stage}.`, { cause: reason, data: { stage } });
}

/** Throws {@link abortError} when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | null | undefined, stage: string): void {
  if (signal?.aborted === true) throw abortError(signal, stage);
}

/** What was thrown, with a raw abort (DOMException `AbortError`/`TimeoutError`) turned into a GatewayError. */
export function explainAbort(error: unknown, signal: AbortSignal | null | undefined): unknown {
  if (isGatewayError(error)) return error;
  const name = error instanceof Error ? error.name : '';
  if (signal?.aborted === true) return abortError(signal, 'while the request was under way');
  if (name === 'AbortError' || name === 'TimeoutError') {
    return new GatewayError(name === 'TimeoutError' ? 'TIMEOUT' : 'ABORTED', 'The request was stopped before it finished.', { cause: error });
  }
  return error;
}

/**
 * Waits for `work`, or rejects as soon as `signal` aborts. `work` goes on (a payment under way is
 * never dropped: it is recorded when it ends); its rejection is then observed, never unhandled.
 */
export function raceAbort<T>(work: Promise<T>, signal: AbortSignal | null | undefined, stage: string): Promise<T> {
  if (signal === null || signal === undefined) return work;
  work.catch(() => undefined);
  if (signal.aborted) return Promise.reject(abortError(signal, stage));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal, stage));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
