import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GatewayError } from '../errors.js';
import { writeTempFile } from '../util/temp-file.js';

/** Where the store's 256-bit key comes from. */
export interface KeyProvider {
  /** Returns the 32-byte key, creating it on first use. */
  getKey(): Promise<Uint8Array>;
  /** Where the key lives, for messages (never the key). */
  readonly description: string;
}

const KEY_BYTES = 32;

/** A key the host supplies (from its own secret manager). */
export function injectedKey(key: Uint8Array): KeyProvider {
  if (key.length !== KEY_BYTES) throw new GatewayError('CONFIG_INVALID', 'An injected store key must be 32 bytes.');
  const copy = Uint8Array.from(key);
  return { description: 'injected key', getKey: () => Promise.resolve(copy) };
}

/**
 * A random key in a file created 0600 (in a 0700 directory). The key is readable by anyone
 * who can read the file: the store warns about it at start-up.
 */
export function keyFile(path: string): KeyProvider {
  return {
    description: `key file ${path}`,
    async getKey() {
      try {
        const text = (await readFile(path, 'utf8')).trim();
        const key = Buffer.from(text, 'base64');
        if (key.length !== KEY_BYTES) throw new GatewayError('DECRYPT_FAILED', `The key file ${path} does not hold a 32-byte key; it was left as it is.`);
        return key;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const key = randomBytes(KEY_BYTES);
      // Write a temp file, then link it into place: link fails if the name exists, so two
      // processes racing never overwrite each other's key; the loser reads the winner's.
      const temp = await writeTempFile(path, `${key.toString('base64')}\n`);
      await chmod(temp, 0o600);
      try {
        await link(temp, path);
        return key;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        return this.getKey();
      } finally {
        await unlink(temp);
      }
    },
  };
}

/**
 * The key in the OS keychain (macOS Keychain, Secret Service, Windows Credential Vault) through
 * the optional `@napi-rs/keyring`; `undefined` when that package or the keychain is not there.
 */
export async function keychainKey(account: string): Promise<KeyProvider | undefined> {
  let Entry: new (service: string, account: string) => { getPassword(): string | null; setPassword(password: string): void };
  try {
    ({ Entry } = (await import('@napi-rs/keyring')) as unknown as { Entry: typeof Entry });
  } catch {
    return undefined;
  }
  const entry = new Entry('portcullis', account);
  try {
    let stored = entry.getPassword();
    if (stored === null) {
      entry.setPassword(randomBytes(KEY_BYTES).toString('base64'));
      stored = entry.getPassword(); // read back: a keychain that drops writes must not be trusted
    }
    const key = stored === null ? undefined : Buffer.from(stored, 'base64');
    if (key?.length !== KEY_BYTES) return undefined;
    return { description: 'OS keychain', getKey: () => Promise.resolve(key) };
  } catch {
    return undefined;
  }
}
