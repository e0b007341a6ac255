import { createHash } from 'node:crypto';
import { chmod, mkdir, open, readFile, realpath, rename, unlink } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { GatewayError } from '../errors.js';
import { isInside } from '../fs/roots.js';
import { coalesced } from '../util/coalesced.js';
import { writeTempFile } from '../util/temp-file.js';
import { keyFile, keychainKey, type KeyProvider } from './keys.js';
import { seal, unseal } from './seal.js';

/** One stored credential: flat, secret-bearing fields are plain strings. */
export type StoredRecord = Readonly<Record<string, string | number | boolean | null>>;

/** Options of {@link createCredentialStore}. */
export interface CredentialStoreOptions {
  /** Directory of the store (created 0700). One encrypted file per record. */
  dir: string;
  /**
   * Where the key comes from. @default the OS keychain when `@napi-rs/keyring` works, else a
   * random key in `<dir>/../store.key` (0600) with a warning.
   */
  keyProvider?: KeyProvider | undefined;
  /** The store must resolve inside this directory (as the payments guide asks). @default the home directory */
  confineTo?: string | undefined;
  /** Where start-up warnings go. @default process.emitWarning */
  warn?: ((message: string) => void) | undefined;
}

/** Where paid credentials and pending payments are kept: the file store or a shared one. */
export interface CredentialBackend {
  put(id: string, record: StoredRecord): Promise<void>;
  get(id: string): Promise<StoredRecord | undefined>;
  delete(id: string): Promise<void>;
  /**
   * Runs `work` while holding a lock on `key` shared by every process using this backend, so
   * that only one of them pays for a scope at a time. Absent on single-process backends.
   */
  withLock?<T>(key: string, work: () => Promise<T>): Promise<T>;
}

/** The encrypted credential store (`gw.credentials`). */
export interface CredentialStore extends CredentialBackend {
  /** Encrypts and stores `record` under `id`, durably (fsync of file and directory) and atomically. */
  put(id: string, record: StoredRecord): Promise<void>;
  /**
   * Reads and decrypts a record; `undefined` when there is none. Reading never rewrites anything.
   * @throws GatewayError `DECRYPT_FAILED` (the file is kept as it is).
   */
  get(id: string): Promise<StoredRecord | undefined>;
  delete(id: string): Promise<void>;
  /** The directory, for messages. */
  readonly dir: string;
}

const ID = /^[\x21-\x7e]{1,512}$/;

/** File name of a record: a hash, so ids (origins, paths) never become paths. */
function fileName(id: string): string {
  return `${createHash('sha256').update(id).digest('hex')}.cred`;
}

/**
 * Opens (creating if needed) the encrypted credential store: AES-256-GCM with a random 12-byte
 * IV per encryption and the record's id bound as associated data, so a file copied onto
 * another record's name does not decrypt. Writes go to a unique temp file, are fsynced,
 * renamed into place and the directory fsynced: a crash leaves the old record or the new one.
 * Writes to one id are serialised; a file that fails to decrypt is never treated as empty.
 *
 * @throws GatewayError `CONFIG_INVALID` when the directory is outside `confineTo`.
 */
export async function createCredentialStore(options: CredentialStoreOptions): Promise<CredentialStore> {
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'PORTCULLIS_STORE' }));
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const real = await realpath(dir);
  const confine = await realpath(resolve(options.confineTo ?? homedir()));
  if (!isInside(real, confine)) {
    throw new GatewayError('CONFIG_INVALID', `The credential store ${dir} must be inside ${confine}.`);
  }
  let provider = options.keyProvider ?? (await keychainKey(real));
  if (provider === undefined) {
    provider = keyFile(join(real, '..', `${fileName(real).slice(0, 16)}.store.key`));
    warn(`No OS keychain: the credential store's key is kept in a 0600 file (${provider.description}). Anyone who can read that file can decrypt the credentials.`);
  }
  const key = await provider.getKey();
  const writing = new Map<string, Promise<void>>();

  function checkId(id: string): void {
    if (typeof id !== 'string' || !ID.test(id)) throw new GatewayError('VALIDATION_FAILED', 'A credential id is 1-512 printable ASCII characters.');
  }

  const encrypt = (id: string, record: StoredRecord): Buffer => seal(key, id, record);
  const decrypt = (id: string, bytes: Buffer): StoredRecord => unseal(key, id, bytes, 'the file');

  // The directory fsync makes renames durable; writers that land while one runs share the next
  // (group commit), so many concurrent writes cost few directory syncs.
  const syncDir = coalesced(async () => {
    const handle = await open(real, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  });

  async function writeAtomically(id: string, bytes: Buffer): Promise<void> {
    const target = join(real, fileName(id));
    const temp = await writeTempFile(target, bytes);
    await rename(temp, target);
    await syncDir();
  }

  /** Runs `work` after the writes already queued for `id`. */
  function serialised(id: string, work: () => Promise<void>): Promise<void> {
    const previous = writing.get(id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    writing.set(id, next);
    void next.finally(() => {
      if (writing.get(id) === next) writing.delete(id);
    }).catch(() => undefined);
    return next;
  }

  return {
    dir: real,
    put(id, record) {
      checkId(id);
      const bytes = encrypt(id, record);
      return serialised(id, () => writeAtomically(id, bytes));
    },
    async get(id) {
      checkId(id);
      let bytes: Buffer;
      try {
        bytes = await readFile(join(real, fileName(id)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      return decrypt(id, bytes);
    },
    delete(id) {
      checkId(id);
      return serialised(id, async () => {
        await unlink(join(real, fileName(id))).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
        await syncDir();
      });
    },
  };
}
