import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Dispatcher } from 'undici';
import { GatewayError } from '../errors.js';

/** The dispatch option read by {@link sizeLimit}: the largest response body, in bytes. */
export const MAX_RESPONSE_BYTES = 'portcullisMaxResponseBytes';

function tooLarge(bytes: number, maxBytes: number, announced: boolean): GatewayError {
  const what = announced ? `announces ${bytes} bytes` : `passed ${maxBytes} bytes`;
  return new GatewayError('RESPONSE_TOO_LARGE', `The response body ${what}, over the limit of ${maxBytes}; the connection was closed.`, {
    data: { maxBytes, ...(announced ? { contentLength: bytes } : {}) },
  });
}

/**
 * Counts response bytes as they come off the socket and aborts the request (closing the
 * connection) the moment the limit is passed; a `Content-Length` over the limit is refused
 * before any body byte is read. `compose` hands interceptors handlers of undici 7's
 * controller API, so this one delegates that API only.
 */
class SizeLimitHandler implements Dispatcher.DispatchHandler {
  readonly #maxBytes: number;
  readonly #next: Dispatcher.DispatchHandler;
  #seenBytes = 0;

  constructor(maxBytes: number, next: Dispatcher.DispatchHandler) {
    this.#maxBytes = maxBytes;
    this.#next = next;
  }

  onRequestStart(controller: Dispatcher.DispatchController, context: unknown): void {
    this.#next.onRequestStart?.(controller, context);
  }

  onRequestUpgrade(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, socket: Duplex): void {
    this.#next.onRequestUpgrade?.(controller, statusCode, headers, socket);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    const length = Number(headers['content-length']);
    if (Number.isFinite(length) && length > this.#maxBytes) {
      controller.abort(tooLarge(length, this.#maxBytes, true));
      return;
    }
    this.#next.onResponseStart?.(controller, statusCode, headers, statusMessage);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#seenBytes += chunk.length;
    if (this.#seenBytes > this.#maxBytes) {
      controller.abort(tooLarge(this.#seenBytes, this.#maxBytes, false));
      return;
    }
    this.#next.onResponseData?.(controller, chunk);
  }

  onResponseEnd(controller: Dispatcher.DispatchController, trailers: IncomingHttpHeaders): void {
    this.#next.onResponseEnd?.(controller, trailers);
  }

  onResponseError(controller: Dispatcher.DispatchController, error: Error): void {
    this.#next.onResponseError?.(controller, error);
  }
}

/** An undici interceptor enforcing the per-request `portcullisMaxResponseBytes` dispatch option. */
export function sizeLimit(): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) => {
    const maxBytes = (opts as { [MAX_RESPONSE_BYTES]?: number })[MAX_RESPONSE_BYTES];
    return dispatch(opts, maxBytes === undefined ? handler : new SizeLimitHandler(maxBytes, handler));
  };
}
