import { getDecodedToken, getTokenMetadata } from '@cashu/cashu-ts';
import { GatewayError } from '../../../errors.js';
import { createGuardedFetch, type GuardedFetch } from '../../../net/fetch.js';
import type { CredentialBackend } from '../../../store/credential-store.js';
import { createTokenStore } from '../../../store/token-store.js';
import type { Wallet } from '../../wallet.js';
import { bookBalance, type WalletCore } from './core.js';
import { importTokenFile, type TokenImport } from './import.js';
import { meltInvoice, settleMelt } from './melt.js';
import { mintError, mintRegistry, normaliseMintUrls, toStored } from './mints.js';
import { reconcileMint, type ReconcileReport } from './reconcile.js';
import { confirmSent, makeToken, reclaimSent, receiveProofs, type OutgoingToken } from './transfer.js';

/** Options of {@link cashuWallet}. */
export interface CashuWalletOptions {
  /** Mints this wallet deals with (`https://mint.example.com`). Tokens and payment requests naming only other mints are refused. */
  mints: readonly string[];
  /** Where the proofs live, encrypted at rest: `gw.credentials`, `createCredentialStore(...)` or the shared PostgreSQL store. */
  store: CredentialBackend;
  /**
   * How the wallet reaches the mints. @default a guarded fetch allowing only the mints' host
   * names (public addresses only)
   */
  fetch?: GuardedFetch | undefined;
  /** Limit of one mint call, in ms. @default 30000 */
  timeoutMs?: number | undefined;
  now?: (() => number) | undefined;
}

/** Options of {@link CashuWallet.send}. */
export interface SendOptions {
  /** The mint to pay from. @default the first allowed mint holding enough */
  mint?: string | undefined;
  /** Add the fee the payee pays to redeem the token, so it nets `amountSat`. @default false */
  includeFees?: boolean | undefined;
  /** Refuse (`PAYMENT_FAILED`, nothing spent) when the fees would be higher, in sats. @default no limit */
  maxFeeSat?: number | undefined;
  /**
   * The token goes with a request whose answer decides whether it was taken (as NUT-24 does):
   * if that answer never comes (a crash), `reconcile()` takes it back unless it was redeemed.
   * Without it, a token stays out until `confirm`, `reclaim`, or the payee redeems it. @default false
   */
  reclaimOnReconcile?: boolean | undefined;
}

/** Balance of a Cashu wallet, in sats. */
export interface CashuBalance {
  /** Spendable now, across all mints. */
  availableSat: number;
  /** Held by operations whose outcome is not settled yet (a token handed out, a pending melt). */
  pendingSat: number;
  byMint: Record<string, { availableSat: number; pendingSat: number }>;
}

/**
 * A Cashu ecash wallet (`gw.pay.cashu`). It is also a Lightning {@link Wallet}: `payInvoice`
 * melts proofs at a mint, so the L402 payer can pay invoices from ecash.
 */
export interface CashuWallet extends Wallet {
  /** The allowed mints, normalised. */
  readonly mints: readonly string[];
  /** `url` normalised when it is one of the allowed mints, else `undefined`. */
  accepts(url: string): string | undefined;
  /**
   * The first allowed mint (of `among`, normalised URLs) holding `amountSat` spendable now, else
   * one that will once operations under way settle; `undefined` when none does.
   */
  mintHolding(amountSat: number, among?: readonly string[]): Promise<string | undefined>;
  /**
   * Receives a `cashuA`/`cashuB` token: swaps its proofs at the mint so the sender cannot spend
   * them again. @throws GatewayError `MINT_NOT_ALLOWED` (before any network call), `TOKEN_INVALID`
   */
  receive(token: string): Promise<{ mint: string; amountSat: number; feeSat: number }>;
  balance(): Promise<CashuBalance>;
  /**
   * Makes a token of `amountSat` to hand to someone (from `mint`, or the first allowed mint
   * holding enough). Its proofs stay held until `confirm(id)` (the payee took it) or
   * `reclaim(id)` (take it back unless redeemed).
   */
  send(amountSat: number, options?: SendOptions): Promise<OutgoingToken>;
  confirm(id: string): Promise<void>;
  reclaim(id: string): Promise<'spent' | 'reclaimed' | 'unknown'>;
  /**
   * Moves a legacy plaintext token file (the `CASHU_TOKENS` file of older tools) into the wallet:
   * the path must resolve inside `confineTo` (default: the home directory; `PATH_NOT_ALLOWED`
   * otherwise, unread), each token is swapped at its mint, the file becomes `<path>.bak` (0600).
   */
  importTokenFile(path: string, options?: { confineTo?: string | undefined }): Promise<TokenImport>;
  /** Settles every unfinished operation with the mints (after a crash or an unclear answer). */
  reconcile(): Promise<ReconcileReport>;
  close(): Promise<void>;
}

/**
 * Creates a Cashu wallet on `@cashu/cashu-ts`, its proofs kept per mint in the encrypted
 * credential store. Every operation is written down before proofs leave the wallet, and
 * settled with the mint (`reconcile`) when its answer is lost: nothing lost, nothing counted twice.
 *
 * @example
 * ```ts
 * const cashu = cashuWallet({ mints: ['https://mint.example.com'], store: await createCredentialStore({ dir }) });
 * await cashu.receive('cashuB…');
 * const gw = await createGateway(config, { cashu });
 * ```
 */
export function cashuWallet(options: CashuWalletOptions): CashuWallet {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const ownFetch = options.fetch === undefined;
  const urls = normaliseMintUrls(options.mints);
  const fetch = options.fetch ?? createGuardedFetch({ allowedDomains: urls.map((url) => new URL(url).hostname), timeoutMs });
  const mints = mintRegistry(urls, fetch, timeoutMs);
  const core: WalletCore = { mints, tokens: createTokenStore(options.store), now: options.now ?? Date.now, inFlight: new Map(), live: new Set() };

  const mintHolding = async (amountSat: number, among: readonly string[] = mints.urls): Promise<string | undefined> => {
    const candidates = mints.urls.filter((url) => among.includes(url));
    const balances = await Promise.all(candidates.map(async (url) => bookBalance(await core.tokens.read(url))));
    // Spendable now; else enough once operations under way are settled (their change comes back).
    const now = candidates.find((_, i) => (balances[i]?.availableSat ?? 0) >= amountSat);
    return now ?? candidates.find((_, i) => (balances[i]?.availableSat ?? 0) + (balances[i]?.pendingSat ?? 0) >= amountSat);
  };

  const mintFor = async (amountSat: number, named: string | undefined): Promise<string> => {
    if (named === undefined) return (await mintHolding(amountSat)) ?? (mints.urls[0] as string);
    const allowed = mints.allowed(named);
    if (allowed === undefined) throw notAllowed(named);
    return allowed;
  };

  /** The mint holding operation `id`. */
  const mintOf = async (id: string): Promise<string | undefined> => {
    for (const url of mints.urls) if ((await core.tokens.read(url)).ops.some((op) => op.id === id)) return url;
    return undefined;
  };

  /** Only GatewayErrors leave the wallet: anything else from a mint becomes one. */
  const gateway = async <T>(mint: string | undefined, work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw mintError(mint ?? 'of this wallet', error);
    }
  };

  const receive = async (token: string): Promise<{ mint: string; amountSat: number; feeSat: number }> => {
    let meta: ReturnType<typeof getTokenMetadata>;
    try {
      meta = getTokenMetadata(token.trim());
    } catch (error) {
      throw new GatewayError('TOKEN_INVALID', 'That is not a Cashu token (cashuA… or cashuB…).', { cause: error });
    }
    const mint = mints.allowed(meta.mint);
    if (mint === undefined) throw notAllowed(meta.mint);
    if ((meta.unit ?? 'sat') !== 'sat') throw new GatewayError('TOKEN_INVALID', `The token is in "${meta.unit}"; this wallet holds sats only.`);
    return gateway(mint, async () => {
      const wallet = await mints.walletFor(mint);
      let proofs;
      try {
        proofs = getDecodedToken(token.trim(), wallet.keyChain.getKeysets().map((keyset) => keyset.id)).proofs.map(toStored);
      } catch (error) {
        throw new GatewayError('TOKEN_INVALID', 'The token does not decode against the mint\'s keysets.', { cause: error });
      }
      return { mint, ...(await receiveProofs(core, mint, proofs)) };
    });
  };

  return {
    mints: mints.urls,
    accepts: (url) => mints.allowed(url),
    mintHolding,
    receive,
    async balance() {
      const byMint: CashuBalance['byMint'] = {};
      let availableSat = 0;
      let pendingSat = 0;
      for (const url of mints.urls) {
        const mintBalance = bookBalance(await core.tokens.read(url));
        byMint[url] = mintBalance;
        availableSat += mintBalance.availableSat;
        pendingSat += mintBalance.pendingSat;
      }
      return { availableSat, pendingSat, byMint };
    },
    async send(amountSat, sendOptions = {}) {
      if (!Number.isSafeInteger(amountSat) || amountSat <= 0) throw new GatewayError('VALIDATION_FAILED', 'amountSat must be a positive whole number of sats.');
      const mint = await mintFor(amountSat, sendOptions.mint);
      return gateway(mint, () => makeToken(core, mint, amountSat, { includeFees: sendOptions.includeFees ?? false, maxFeeSat: sendOptions.maxFeeSat ?? Number.MAX_SAFE_INTEGER, reclaimOnReconcile: sendOptions.reclaimOnReconcile ?? false }));
    },
    async confirm(id) {
      const mint = await mintOf(id);
      if (mint !== undefined) await confirmSent(core, mint, id);
    },
    async reclaim(id) {
      const mint = await mintOf(id);
      return mint === undefined ? 'spent' : gateway(mint, () => reclaimSent(core, mint, id));
    },
    payInvoice: (request) => meltInvoice(core, request),
    async lookupPayment(paymentHash) {
      for (const url of mints.urls) {
        const op = (await core.tokens.read(url)).ops.find((candidate) => candidate.kind === 'melt' && candidate.paymentHash === paymentHash);
        // An unreachable mint leaves the outcome unknown, as it was.
        if (op !== undefined) return settleMelt(core, url, op.id).catch(() => undefined);
      }
      return undefined;
    },
    importTokenFile(path, importOptions = {}) {
      return importTokenFile(receive, path, importOptions.confineTo);
    },
    async reconcile() {
      const total = { settled: 0, open: 0, balanceSat: 0 };
      for (const url of mints.urls) {
        const report = await gateway(url, () => reconcileMint(core, url));
        total.settled += report.settled;
        total.open += report.open;
        total.balanceSat += report.balanceSat;
      }
      return total;
    },
    async close() {
      if (ownFetch) await fetch.close();
    },
  };
}

function notAllowed(mint: string): GatewayError {
  return new GatewayError('MINT_NOT_ALLOWED', `The mint ${mint} is not one this wallet deals with; nothing was sent to it.`, { data: { mint } });
}

export type { OutgoingToken, ReconcileReport, TokenImport };
