// The runtime objects `portcullis serve` builds from the environment's hints, as a host would in
// code: an NWC wallet (NWC_URI_FILE or NWC_URI), a Cashu wallet over the credential store with the
// legacy token file (CASHU_TOKENS) moved into it. They are closed when the server stops.
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ResolvedConfig } from '../config.js';
import type { RuntimeHints } from '../config-loaders.js';
import { commaList } from '../config/seed-env.js';
import { GatewayError, isGatewayError } from '../errors.js';
import type { Wallet } from '../pay/wallet.js';
import type { CashuWallet } from '../pay/wallets/cashu/wallet.js';

/** What {@link buildRuntime} made: the deps for `createGateway`, and how to close them. */
export interface ServeRuntime {
  deps: { wallet?: Wallet; cashu?: CashuWallet };
  /** Closes the wallets (each once; errors are reported to `warn`, not thrown). */
  close(): Promise<void>;
}

/** Where the Cashu book lives when neither CREDENTIAL_STORE nor payments.credentialStoreDir says. */
export const DEFAULT_CASHU_STORE = join('.portcullis', 'credentials');

function invalid(variable: string, message: string, cause?: unknown): GatewayError {
  return new GatewayError('CONFIG_INVALID', `Invalid environment: ${variable} ${message}`, { data: { issues: [{ path: variable, message }] }, ...(cause === undefined ? {} : { cause }) });
}

/** `CASHU_MINTS`: the mints the Cashu wallet deals with, comma-separated https URLs. */
function readMints(raw: string | undefined): string[] {
  const mints = commaList(raw ?? '');
  if (mints.length === 0) throw invalid('CASHU_MINTS', 'must list the mints the Cashu wallet deals with (comma-separated URLs) when CASHU_TOKENS is set');
  for (const mint of mints) {
    let url: URL;
    try {
      url = new URL(mint);
    } catch {
      throw invalid('CASHU_MINTS', 'must be comma-separated mint URLs, such as https://mint.example.com');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('CASHU_MINTS', 'must be comma-separated http(s) mint URLs');
  }
  return mints;
}

/**
 * Builds the wallets the hints ask for. `env` is the live environment: `nwcWallet` deletes
 * `NWC_URI` from it once read. On failure, whatever was built is closed again.
 *
 * @throws GatewayError `CONFIG_INVALID` for an unusable NWC URI or file, missing or bad
 *   `CASHU_MINTS`, or a token file outside the home directory (then it is not read).
 */
export async function buildRuntime(
  hints: RuntimeHints,
  config: ResolvedConfig,
  env: Record<string, string | undefined>,
  log: (message: string) => void,
  warn: (message: string) => void,
): Promise<ServeRuntime> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const closer of closers.splice(0).reverse()) {
      await closer().catch((error: unknown) => warn(`closing a wallet failed: ${error instanceof Error ? error.message : String(error)}`));
    }
  };
  const deps: ServeRuntime['deps'] = {};
  try {
    if (hints.nwcUriFile !== undefined || hints.nwcUriInEnv === true) {
      const { nwcWallet } = await import('../pay/wallets/nwc.js');
      const wallet = hints.nwcUriFile !== undefined ? await nwcWallet({ uriFile: hints.nwcUriFile }) : await nwcWallet({ env });
      closers.push(() => wallet.close());
      deps.wallet = wallet;
      log(`NWC wallet from ${hints.nwcUriFile !== undefined ? 'NWC_URI_FILE' : 'NWC_URI (now removed from the environment)'}`);
    }
    if (hints.cashuTokensFile !== undefined) {
      const mints = readMints(env.CASHU_MINTS);
      const [{ cashuWallet }, { createCredentialStore }] = await Promise.all([import('../pay/wallets/cashu/wallet.js'), import('../store/credential-store.js')]);
      const dir = hints.credentialStoreDir ?? config.payments.credentialStoreDir ?? join(homedir(), DEFAULT_CASHU_STORE);
      const store = await createCredentialStore({ dir, confineTo: config.payments.credentialStoreConfineTo, warn });
      const cashu = cashuWallet({ mints, store });
      closers.push(() => cashu.close());
      deps.cashu = cashu;
      let imported;
      try {
        imported = await cashu.importTokenFile(hints.cashuTokensFile);
      } catch (error) {
        if (isGatewayError(error) && error.code === 'PATH_NOT_ALLOWED') throw invalid('CASHU_TOKENS', 'must be a file inside the home directory; it was not read', error);
        throw error;
      }
      const refused = Object.entries(imported.refused).map(([code, count]) => `${count} ${code}`);
      log(
        imported.backup === undefined
          ? 'Cashu wallet over the credential store (CASHU_TOKENS: no token file to import)'
          : `Cashu wallet: imported ${imported.received} tokens (${imported.receivedSat} sats) from CASHU_TOKENS${refused.length === 0 ? '' : `, refused ${refused.join(', ')}`}; the plaintext file is now ${imported.backup}`,
      );
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { deps, close };
}
