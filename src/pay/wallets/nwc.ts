import { readFile, stat } from 'node:fs/promises';
import { GatewayError } from '../../errors.js';
import type { PayInvoiceRequest, PayInvoiceResult, Wallet } from '../wallet.js';

/** Options of {@link nwcWallet}: one source of the connection URI. */
export interface NwcWalletOptions {
  /** `nostr+walletconnect://…`; prefer `uriFile` so the secret is not in your code. */
  uri?: string | undefined;
  /** A file holding the URI, readable by its owner only (mode 0600). */
  uriFile?: string | undefined;
  /** Read `NWC_URI` from here when neither is given; it is deleted right after reading. @default process.env */
  env?: Record<string, string | undefined> | undefined;
}

/** NIP-47 error codes that mean nothing was paid. */
const NOT_PAID = new Set(['INSUFFICIENT_BALANCE', 'QUOTA_EXCEEDED', 'RATE_LIMITED', 'RESTRICTED', 'UNAUTHORIZED', 'NOT_IMPLEMENTED', 'PAYMENT_FAILED']);

interface NwcClient {
  payInvoice(request: { invoice: string }): Promise<{ preimage: string; fees_paid: number }>;
  lookupInvoice(request: { payment_hash: string }): Promise<{ preimage?: string; settled_at?: number; state?: string }>;
  close(): void;
}

async function readUri(options: NwcWalletOptions): Promise<string> {
  if (options.uri !== undefined) return options.uri;
  if (options.uriFile !== undefined) {
    let mode: number;
    try {
      mode = (await stat(options.uriFile)).mode;
    } catch (error) {
      throw new GatewayError('CONFIG_INVALID', `Cannot read the NWC URI file ${options.uriFile}.`, { cause: error });
    }
    if ((mode & 0o077) !== 0) {
      throw new GatewayError('CONFIG_INVALID', `The NWC URI file ${options.uriFile} is readable by others (mode ${(mode & 0o777).toString(8)}): chmod 600 it.`);
    }
    return (await readFile(options.uriFile, 'utf8')).trim();
  }
  const env = options.env ?? process.env;
  const uri = env.NWC_URI;
  // The seed's rule: the secret does not stay in the environment, where child processes and
  // process inspection would see it.
  delete env.NWC_URI;
  if (uri === undefined || uri === '') throw new GatewayError('CONFIG_INVALID', 'No NWC connection: pass uri or uriFile, or set NWC_URI.');
  return uri;
}

/** Node 20 has no global WebSocket; the NWC library needs one when it loads. A host's own is kept. */
async function ensureWebSocket(): Promise<void> {
  if (typeof (globalThis as { WebSocket?: unknown }).WebSocket !== 'undefined') return;
  const { WebSocket } = await import('ws');
  (globalThis as { WebSocket?: unknown }).WebSocket = WebSocket;
}

/** An error to hand on: the name and NIP-47 code of what the library threw, never its text (it could hold the URI). */
function scrubbed(error: unknown): Error {
  const code = (error as { code?: unknown }).code;
  return new Error(`${(error as Error | undefined)?.name ?? 'Error'}${typeof code === 'string' ? ` (${code})` : ''}`);
}

/**
 * A wallet over Nostr Wallet Connect (NIP-47) with `@getalby/sdk`. The connection secret comes
 * from a 0600 file, the options, or `NWC_URI` (deleted from the environment once read), and
 * never appears in an error or a log line.
 *
 * @throws GatewayError `CONFIG_INVALID` for a missing or unsafe URI.
 * @example
 * ```ts
 * const wallet = await nwcWallet({ uriFile: '/run/secrets/nwc-uri' });
 * const gw = await createGateway(config, { wallet });
 * ```
 */
export async function nwcWallet(options: NwcWalletOptions = {}): Promise<Wallet & { close(): Promise<void> }> {
  const uri = await readUri(options);
  if (!/^nostr\+walletconnect:\/\/[0-9a-f]{64}\?/i.test(uri)) {
    throw new GatewayError('CONFIG_INVALID', 'The NWC URI is not a nostr+walletconnect:// URI with a wallet public key.');
  }
  await ensureWebSocket();
  const { NWCClient } = await import('@getalby/sdk/nwc');
  let client: NwcClient;
  try {
    client = new NWCClient({ nostrWalletConnectUrl: uri });
  } catch (error) {
    throw new GatewayError('CONFIG_INVALID', 'The NWC URI could not be used (relay, wallet key or secret is malformed).', { cause: scrubbed(error) });
  }

  return {
    async payInvoice({ invoice, signal }: PayInvoiceRequest): Promise<PayInvoiceResult> {
      signal.throwIfAborted();
      const payment = client.payInvoice({ invoice });
      payment.catch(() => undefined); // may settle after we stopped waiting
      const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
      try {
        const result = await Promise.race([payment, aborted]);
        return { preimage: result.preimage, feesPaidMsat: result.fees_paid };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (typeof code === 'string' && NOT_PAID.has(code)) {
          throw new GatewayError('PAYMENT_FAILED', `The wallet refused the payment (${code}).`, { cause: scrubbed(error) });
        }
        throw scrubbed(error); // a timeout or an unclear answer: the payer treats the outcome as unknown
      }
    },
    async lookupPayment(paymentHash, { signal }) {
      const lookup = client.lookupInvoice({ payment_hash: paymentHash });
      lookup.catch(() => undefined);
      const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('lookup timed out')), { once: true }));
      try {
        const transaction = await Promise.race([lookup, aborted]);
        return transaction.preimage !== undefined && transaction.preimage !== '' && (transaction.state === 'settled' || transaction.settled_at !== undefined)
          ? { preimage: transaction.preimage }
          : undefined;
      } catch {
        return undefined;
      }
    },
    close() {
      client.close();
      return Promise.resolve();
    },
  };
}
