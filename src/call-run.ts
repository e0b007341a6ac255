import { GatewayError, isGatewayError } from './errors.js';
import type { ToolContext } from './tools.js';
import type { ToolLimits } from './policy/engine.js';

/**
 * One call in flight: its cancellation and the context its tool sees. A class rather than
 * closures because one is made per call on the hot path.
 *
 * A stop (timeout, caller abort, gateway close) aborts the tool's signal, so its I/O really
 * stops, and settles the call at once, so a tool that ignores its signal cannot hold it.
 */
export class CallRun implements ToolContext {
  readonly actor: string | undefined;
  readonly requestId: string;
  limits: ToolLimits = { timeoutMs: 0, maxBytes: 0 };
  #controller: AbortController | undefined;
  #stopped: GatewayError | undefined;
  #rejectRace: ((reason: Error) => void) | undefined;

  constructor(actor: string | undefined, requestId: string) {
    this.actor = actor;
    this.requestId = requestId;
  }

  /** Made on first use: most host tools never ask for it. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#stopped !== undefined) this.#controller.abort(this.#stopped);
    }
    return this.#controller.signal;
  }

  /** Aborts the tool's signal and settles the call with `reason`. The first reason wins. */
  stop(reason: GatewayError): void {
    if (this.#stopped !== undefined) return;
    this.#stopped = reason;
    this.#controller?.abort(reason);
    this.#rejectRace?.(reason);
  }

  throwIfStopped(): void {
    if (this.#stopped !== undefined) throw this.#stopped;
  }

  /** Waits for `work` until it settles, the call is stopped, or `timeoutMs` passes. */
  race<T>(work: PromiseLike<T>, name: string, timeoutMs: number): Promise<T> {
    if (this.#stopped !== undefined) return Promise.reject(this.#stopped);
    return new Promise<T>((resolve, reject) => {
      this.#rejectRace = reject;
      const timer = setTimeout(
        () => this.stop(new GatewayError('TIMEOUT', `${name} did not finish within ${timeoutMs} ms.`, { data: { timeoutMs } })),
        timeoutMs,
      );
      work.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error('The tool threw a value that is not an Error.', { cause: error }));
        },
      );
    });
  }

  /** Maps what was thrown to a GatewayError; a stop wins over what the tool threw after it. */
  explain(thrown: unknown, name: string): GatewayError {
    const stopped = this.#stopped;
    if (stopped !== undefined && (!isGatewayError(thrown) || thrown.code !== stopped.code)) return stopped;
    if (isGatewayError(thrown)) return thrown;
    // The host's message may carry secrets or argument values: keep it in `cause` only.
    return new GatewayError('TOOL_FAILED', `${name} failed. See the error's cause on the host for details.`, { cause: thrown });
  }
}
