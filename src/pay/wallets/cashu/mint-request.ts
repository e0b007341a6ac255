import { HttpResponseError, JSONInt, MintOperationError, NetworkError, type RequestFn } from '@cashu/cashu-ts';
import { isGatewayError } from '../../../errors.js';
import type { GuardedFetch } from '../../../net/fetch.js';

/** Largest mint answer read, in bytes: keysets and signatures are small. */
const MAX_MINT_ANSWER_BYTES = 1024 * 1024;

/**
 * The request function cashu-ts uses for every mint call, sent through the network guard (so
 * a mint URL cannot reach an internal address) and following cashu-ts' error contract: a mint
 * protocol error becomes a `MintOperationError` with its NUT code, a transport failure a
 * `NetworkError` (the outcome of a state-changing call is then unknown).
 */
export function guardedMintRequest(fetch: GuardedFetch, timeoutMs: number): RequestFn {
  return async <T>(args: Parameters<RequestFn>[0]): Promise<T> => {
    const body = args.requestBody === undefined ? undefined : JSONInt.stringify(args.requestBody);
    const headers: Record<string, string> = { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...args.headers };
    let response: Response;
    let text: string;
    try {
      response = await fetch(args.endpoint, {
        method: args.method ?? 'GET',
        headers,
        body,
        // Swaps and melts must never be sent twice by a retry: the mint answers each once.
        retries: 0,
        redirect: 'error',
        maxBytes: MAX_MINT_ANSWER_BYTES,
        // The wallet's own limit applies even when cashu-ts passes a signal of its own.
        signal: args.signal == null ? AbortSignal.timeout(timeoutMs) : AbortSignal.any([args.signal, AbortSignal.timeout(timeoutMs)]),
      });
      text = await response.text();
    } catch (error) {
      const reason = isGatewayError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : 'request failed';
      throw new NetworkError(`Mint unreachable (${reason})`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSONInt.parse(text);
    } catch {
      throw new HttpResponseError('bad response from the mint', response.status);
    }
    if (!response.ok) {
      const detail = parsed as { code?: unknown; detail?: unknown } | undefined;
      if (response.status === 400 && typeof detail?.code === 'number' && typeof detail.detail === 'string') {
        throw new MintOperationError(detail.code, detail.detail);
      }
      throw new HttpResponseError(typeof detail?.detail === 'string' ? detail.detail : `mint answered ${response.status}`, response.status);
    }
    if (parsed === undefined) throw new HttpResponseError('empty response from the mint', response.status);
    return parsed as T;
  };
}
