import { chmod, readFile, realpath, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { GatewayError, isGatewayError } from '../../../errors.js';
import { isInside } from '../../../fs/roots.js';

/** What `CashuWallet.importTokenFile` did. */
export interface TokenImport {
  /** Tokens received (swapped into the wallet). */
  received: number;
  receivedSat: number;
  /** Tokens refused, by code (`TOKEN_INVALID`: spent or malformed; `MINT_NOT_ALLOWED`; ...); they stay in the backup. */
  refused: Record<string, number>;
  /** Where the original file now is: `<path>.bak`, whose tokens the wallet has swapped. */
  backup: string | undefined;
}

const TOKEN = /cashu[AB][A-Za-z0-9_\-+/=]+/g;

/**
 * Moves the ecash of a legacy plaintext token file (the seed project's `CASHU_TOKENS`: a JSON
 * array or object of token strings, or one token per line) into the wallet. The path must
 * resolve inside `confineTo` (the home directory by default). Every token is received, that
 * is swapped at its mint, so the plaintext copies are worthless afterwards; the file is then
 * renamed to `<path>.bak` (0600). A missing file imports nothing.
 *
 * @throws GatewayError `PATH_NOT_ALLOWED` (outside `confineTo`; the file is not read).
 */
export async function importTokenFile(
  receive: (token: string) => Promise<{ amountSat: number }>,
  path: string,
  confineTo: string = homedir(),
): Promise<TokenImport> {
  let real: string;
  try {
    real = await realpath(resolve(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { received: 0, receivedSat: 0, refused: {}, backup: undefined };
    throw error;
  }
  if (!isInside(real, await realpath(resolve(confineTo)))) {
    throw new GatewayError('PATH_NOT_ALLOWED', `The token file must be inside ${confineTo}; it was not read.`, { data: { path } });
  }
  const text = await readFile(real, 'utf8');
  const tokens = [...new Set(text.match(TOKEN) ?? [])];
  const result: TokenImport = { received: 0, receivedSat: 0, refused: {}, backup: `${real}.bak` };
  for (const token of tokens) {
    try {
      result.receivedSat += (await receive(token)).amountSat;
      result.received += 1;
    } catch (error) {
      const code = isGatewayError(error) ? error.code : 'TOOL_FAILED';
      result.refused[code] = (result.refused[code] ?? 0) + 1;
      // A token whose outcome is unknown stays in the wallet's book: reconcile() finishes it.
    }
  }
  await chmod(real, 0o600);
  await rename(real, `${real}.bak`);
  return result;
}
