import { Amount, CheckStateEnum, Mint, normalizeMintUrl, OutputData, Wallet, type Proof, type ProofLike, type SerializedOutputData } from '@cashu/cashu-ts';
import { GatewayError, isGatewayError } from '../../../errors.js';
import type { GuardedFetch } from '../../../net/fetch.js';
import type { StoredOutput, StoredProof } from '../../../store/token-store.js';
import { guardedMintRequest } from './mint-request.js';

/** The cashu-ts wallets of the allowed mints, loaded once each, and what they share. */
export interface MintRegistry {
  /** The allowed mints, normalised, in the order the host gave. */
  readonly urls: readonly string[];
  /** The normalised URL when `url` is an allowed mint, else `undefined`. */
  allowed(url: string): string | undefined;
  /** The loaded cashu-ts wallet of an allowed mint (keysets fetched on first use). */
  walletFor(url: string): Promise<Wallet>;
}

/** The host's mint list, normalised; refuses an empty or malformed one (`CONFIG_INVALID`). */
export function normaliseMintUrls(mints: readonly string[]): string[] {
  if (mints.length === 0) throw new GatewayError('CONFIG_INVALID', 'cashuWallet needs at least one mint URL in `mints`.');
  return mints.map((url) => {
    try {
      const normal = normalizeMintUrl(url);
      if (!/^https?:$/.test(new URL(normal).protocol)) throw new TypeError('not http(s)');
      return normal;
    } catch (error) {
      throw new GatewayError('CONFIG_INVALID', `cashuWallet: ${JSON.stringify(url)} is not a mint URL.`, { cause: error });
    }
  });
}

/** Opens the registry of the (normalised) allowed mints. */
export function mintRegistry(urls: readonly string[], fetch: GuardedFetch, timeoutMs: number): MintRegistry {
  const request = guardedMintRequest(fetch, timeoutMs);
  const loaded = new Map<string, Promise<Wallet>>();
  const allowed = (url: string): string | undefined => {
    try {
      const normal = normalizeMintUrl(url);
      return urls.includes(normal) ? normal : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    urls,
    allowed,
    walletFor(url) {
      let wallet = loaded.get(url);
      if (wallet === undefined) {
        const fresh = new Wallet(new Mint(url, { customRequest: request }), { unit: 'sat' });
        wallet = fresh.loadMint().then(
          () => fresh,
          (error: unknown) => {
            throw mintError(url, error);
          },
        );
        // A failed load is retried on next use instead of being remembered.
        wallet.catch(() => loaded.delete(url));
        loaded.set(url, wallet);
      }
      return wallet;
    },
  };
}

/**
 * A failure talking to a mint as a GatewayError: the network guard's own refusal (SSRF_BLOCKED,
 * DOMAIN_NOT_ALLOWED, TIMEOUT...) when that is what stopped it, else `UPSTREAM_ERROR`.
 */
export function mintError(url: string, error: unknown): GatewayError {
  if (isGatewayError(error)) return error;
  const guard = error instanceof Error && isGatewayError(error.cause) ? error.cause : undefined;
  if (guard !== undefined) return guard;
  return new GatewayError('UPSTREAM_ERROR', `The mint ${url} could not be used (${error instanceof Error ? error.message : 'unexpected answer'}).`, { cause: error, data: { mint: url } });
}

/** A cashu-ts proof as stored (plain JSON; no witness: this wallet holds unlocked proofs only). */
export function toStored(proof: Proof): StoredProof {
  return {
    id: proof.id,
    amount: Amount.from(proof.amount).toNumber(),
    secret: proof.secret,
    C: proof.C,
    ...(proof.dleq === undefined ? {} : { dleq: proof.dleq }),
  };
}

/** A stored proof in the shape cashu-ts takes. */
export function toProofLike(proof: StoredProof): ProofLike {
  const { dleq, ...rest } = proof;
  return dleq === undefined ? rest : { ...rest, dleq: { s: dleq.s, e: dleq.e, ...(dleq.r === undefined ? {} : { r: dleq.r }) } };
}

export function sumSat(proofs: readonly { amount: unknown }[]): number {
  return proofs.reduce((total, proof) => total + Amount.from(proof.amount as number).toNumber(), 0);
}

export function serializeOutputs(outputs: readonly Parameters<typeof OutputData.serialize>[0][] | undefined): StoredOutput[] {
  return (outputs ?? []).map((output) => OutputData.serialize(output) as unknown as StoredOutput);
}

/** The mint's view of each proof, in order: `UNSPENT`, `PENDING` or `SPENT`. */
export async function statesOf(wallet: Wallet, proofs: readonly StoredProof[]): Promise<CheckStateEnum[]> {
  if (proofs.length === 0) return [];
  const states = await wallet.checkProofsStates(proofs.map((proof) => ({ id: proof.id, secret: proof.secret })));
  return states.map((state) => state.state);
}

/**
 * Asks the mint (NUT-09 restore) for its signatures on outputs we blinded before a crash or a
 * lost answer, and unblinds them into proofs. Outputs the mint never signed are skipped.
 */
export async function restoreOutputs(wallet: Wallet, stored: readonly StoredOutput[]): Promise<Proof[]> {
  if (stored.length === 0) return [];
  const outputs = stored.map((output) => OutputData.deserialize(output as unknown as SerializedOutputData));
  const answer = await wallet.mint.restore({ outputs: outputs.map((output) => output.blindedMessage) });
  const signatures = answer.signatures;
  return answer.outputs.flatMap((message, i) => {
    const output = outputs.find((candidate) => candidate.blindedMessage.B_ === message.B_);
    const signature = signatures[i];
    if (output === undefined || signature === undefined) return [];
    return [output.toProof(signature, wallet.getKeyset(signature.id))];
  });
}

export { CheckStateEnum };
