import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, mkdir, open, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GatewayError } from '../errors.js';
import { writeTempFile } from '../util/temp-file.js';

/** What the caller of {@link KeyProvider.getKey} asks for. */
export interface KeyRequest {
  /**
   * May a key that does not exist yet be made? The single-machine credential store says yes;
   * shared state (a fleet) says no, since a key made on one machine is not the fleet's key.
   * A provider's own `create` option, when set, wins. @default true
   */
  create?: boolean | undefined;
}

/** Where the store's 256-bit key comes from. */
export interface KeyProvider {
  /** Returns the 32-byte key; creating it on first use when the provider and the request allow it. */
  getKey(request?: KeyRequest): Promise<Uint8Array>;
  /** Where the key lives, for messages (never the key). */
  readonly description: string;
}

const KEY_BYTES = 32;
/** Base64 of 32 bytes: 43 characters and one `=`. */
const BASE64_KEY = /^[A-Za-z0-9+/]{43}=$/;
const HEX_KEY = /^[0-9a-fA-F]{64}$/;
/** A key file is never larger than this; a bigger one is refused without reading it. */
const MAX_KEY_FILE_BYTES = 64;

/** A key the host supplies (from its own secret manager). */
export function injectedKey(key: Uint8Array): KeyProvider {
  if (key.length !== KEY_BYTES) throw new GatewayError('CONFIG_INVALID', 'An injected store key must be 32 bytes.');
  const copy = Uint8Array.from(key);
  return { description: 'injected key', getKey: () => Promise.resolve(copy) };
}

/** Options of {@link keyFile}. */
export interface KeyFileOptions {
  /**
   * Make a new random key when the file does not exist. Unset: as the caller asks (`true` for
   * the single-machine credential store, `false` for `sharedState`, where a missing file is a
   * `CONFIG_INVALID` error rather than a silent new key on each machine).
   */
  create?: boolean | undefined;
  /** Where the warning about a file readable by group or others goes. @default process.emitWarning */
  warn?: ((message: string) => void) | undefined;
}

const KEY_FILE_FORMATS = 'the base64 text of 32 bytes (44 characters, one optional trailing newline) or exactly 32 raw bytes';

/**
 * The key in a file, in one of two formats: the base64 text of 32 bytes (44 characters such as
 * `openssl rand -base64 32` prints, with one optional trailing newline), or exactly 32 raw bytes
 * (`head -c 32 /dev/urandom`; 32 bytes that are all printable text are refused as a likely
 * password or short key). Anything else is refused with `CONFIG_INVALID` naming the
 * expected formats (never the content). A missing file is created with a random key (0600, in a
 * 0700 directory) when allowed (see {@link KeyFileOptions.create}). A file readable by group or
 * others is warned about: anyone who can read it can decrypt the credentials.
 *
 * @example
 * ```ts
 * const key = keyFile('/etc/portcullis/store.key', { create: false });
 * ```
 */
export function keyFile(path: string, options: KeyFileOptions = {}): KeyProvider {
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'PORTCULLIS_STORE' }));
  const description = `key file ${path}`;
  const provider: KeyProvider = {
    description,
    async getKey(request: KeyRequest = {}) {
      const existing = await readKeyFile(path, warn);
      if (existing !== undefined) return existing;
      if (!(options.create ?? request.create ?? true)) {
        throw new GatewayError('CONFIG_INVALID', `The key file ${path} does not exist and may not be created here: copy the fleet's key there (${KEY_FILE_FORMATS}).`);
      }
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      const key = randomBytes(KEY_BYTES);
      // Write a temp file, then link it into place: link fails if the name exists, so two
      // processes racing never overwrite each other's key; the loser reads the winner's.
      const temp = await writeTempFile(path, `${key.toString('base64')}\n`);
      await chmod(temp, 0o600);
      try {
        await link(temp, path);
        return Uint8Array.from(key);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        return provider.getKey({ create: false });
      } finally {
        await unlink(temp);
      }
    },
  };
  return provider;
}

/** Reads and parses a key file; `undefined` when it does not exist. */
async function readKeyFile(path: string, warn: (message: string) => void): Promise<Uint8Array | undefined> {
  let handle;
  try {
    // Non-blocking: a FIFO at the path must not hang the start-up.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GatewayError('CONFIG_INVALID', `The key file ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, { cause: error });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new GatewayError('CONFIG_INVALID', `The key file ${path} is not a regular file; expected ${KEY_FILE_FORMATS}.`);
    if (info.size > MAX_KEY_FILE_BYTES) throw new GatewayError('CONFIG_INVALID', `The key file ${path} is not in a key format: expected ${KEY_FILE_FORMATS}.`);
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      warn(`The key file ${path} is readable by group or others (mode ${(info.mode & 0o777).toString(8)}): anyone who can read it can decrypt the credentials; chmod 600 it.`);
    }
    const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const key = parseKeyFile(buffer.subarray(0, bytesRead));
    buffer.fill(0);
    if (key === undefined) throw new GatewayError('CONFIG_INVALID', `The key file ${path} is not in a key format: expected ${KEY_FILE_FORMATS}; it was left as it is.`);
    return key;
  } finally {
    await handle.close();
  }
}

/** The key in a key file's bytes: base64 text (one optional trailing newline) or 32 raw bytes. */
function parseKeyFile(bytes: Buffer): Uint8Array | undefined {
  // 32 bytes that are all printable text are a password or a short key, not 32 random bytes
  // (random bytes are all printable with a probability of about 1e-14).
  if (bytes.length === KEY_BYTES) return bytes.every((byte) => byte >= 0x20 && byte < 0x7f) ? undefined : Uint8Array.from(bytes);
  let end = bytes.length;
  if (bytes[end - 1] === 0x0a) end -= 1;
  if (bytes[end - 1] === 0x0d && end < bytes.length) end -= 1;
  const text = bytes.subarray(0, end).toString('latin1');
  return BASE64_KEY.test(text) ? decoded(Buffer.from(text, 'base64')) : undefined;
}

function decoded(key: Buffer): Uint8Array | undefined {
  return key.length === KEY_BYTES ? Uint8Array.from(key) : undefined;
}

/**
 * The key in an environment variable, for containers and secret managers that inject
 * variables: the base64 of 32 bytes (44 characters) or 64 hex characters. It is read when the
 * key is asked for; a missing or malformed variable is `CONFIG_INVALID` naming the variable,
 * never its value. Never creates a key.
 *
 * @example
 * ```ts
 * // PORTCULLIS_STORE_KEY=$(openssl rand -base64 32)
 * const gw = await createGateway({ sharedState: { connectionString } }, { keyProvider: envKey() });
 * ```
 */
export function envKey(name = 'PORTCULLIS_STORE_KEY', env: Readonly<Record<string, string | undefined>> = process.env): KeyProvider {
  if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) {
    throw new GatewayError('CONFIG_INVALID', 'envKey() takes the name of an environment variable (letters, digits, _).');
  }
  return {
    description: `environment variable ${name}`,
    getKey() {
      const value = env[name];
      if (value === undefined || value === '') {
        return Promise.reject(new GatewayError('CONFIG_INVALID', `The environment variable ${name} is not set: it must hold the store key (base64 of 32 bytes, or 64 hex characters).`));
      }
      const text = value.trim();
      const key = BASE64_KEY.test(text) ? decoded(Buffer.from(text, 'base64')) : HEX_KEY.test(text) ? decoded(Buffer.from(text, 'hex')) : undefined;
      if (key === undefined) {
        return Promise.reject(new GatewayError('CONFIG_INVALID', `The environment variable ${name} does not hold a key: expected the base64 of 32 bytes (44 characters) or 64 hex characters.`));
      }
      return Promise.resolve(key);
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
