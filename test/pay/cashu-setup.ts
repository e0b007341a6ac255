import { getEncodedToken, Mint, Wallet } from '@cashu/cashu-ts';
import { guardedMintRequest } from '../../src/pay/wallets/cashu/mint-request.js';
import { cashuWallet, type CashuWalletOptions } from '../../src/pay/wallets/cashu/wallet.js';
import { createCredentialStore, injectedKey } from '../../src/store/index.js';
import { startCashuMint, type MintKnobs } from '../helpers/cashu-mint.js';
import { fakeLightning } from '../helpers/lightning.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testFetch } from '../net/setup.js';

/**
 * A Cashu wallet on an encrypted store, a local mint (and optionally a second one), and a
 * "stranger": a plain cashu-ts wallet on the same mint that hands us tokens.
 */
export async function cashuRig(options: { mint?: MintKnobs | undefined; secondMint?: MintKnobs; wallet?: Partial<CashuWalletOptions>; extraPorts?: number[] } = {}) {
  const lightning = fakeLightning();
  const mint = await startCashuMint(lightning, options.mint);
  const second = options.secondMint === undefined ? undefined : await startCashuMint(lightning, options.secondMint);
  const dir = await tempDir('portcullis-cashu-');
  const net = await testFetch({ allowedPorts: [mint.port, ...(second === undefined ? [] : [second.port]), ...(options.extraPorts ?? [])] });
  const keyProvider = injectedKey(new Uint8Array(32).fill(7));
  /** The wallet's store opened afresh (as after a restart), or another wallet's store. */
  const openStoreAt = (name: string) => createCredentialStore({ dir: dir.join(name), keyProvider, confineTo: dir.path });
  const openStore = () => openStoreAt('store');
  const store = await openStore();
  const mintUrl = `http://mint.test:${mint.port}`;
  const secondUrl = second === undefined ? undefined : `http://mint2.test:${second.port}`;
  const mints = [mintUrl, ...(secondUrl === undefined ? [] : [secondUrl])];
  const open = (overrides: Partial<CashuWalletOptions> = {}) => cashuWallet({ mints, store, fetch: net.fetch, timeoutMs: 2000, ...options.wallet, ...overrides });
  const wallet = open();

  /** A token of `amountSat` minted by someone else at `url`. */
  const strangerToken = async (amountSat: number, url = mintUrl): Promise<string> => {
    const stranger = new Wallet(new Mint(url, { customRequest: guardedMintRequest(net.fetch, 2000) }), { unit: 'sat' });
    await stranger.loadMint();
    const quote = await stranger.createMintQuoteBolt11(amountSat);
    const proofs = await stranger.mintProofsBolt11(amountSat, quote.quote);
    return getEncodedToken({ mint: url, unit: 'sat', proofs });
  };

  return {
    lightning,
    mint,
    second,
    mintUrl,
    secondUrl,
    store,
    openStore,
    openStoreAt,
    net,
    wallet,
    open,
    strangerToken,
    /** Funds the wallet with `amountSat` received from a stranger. */
    async fund(amountSat: number, url = mintUrl): Promise<void> {
      await wallet.receive(await strangerToken(amountSat, url));
    },
    async [Symbol.asyncDispose]() {
      await wallet.close();
      await net[Symbol.asyncDispose]();
      await mint.close();
      await second?.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}
