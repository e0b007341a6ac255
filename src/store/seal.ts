import { randomBytes } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { GatewayError } from '../errors.js';
import type { StoredRecord } from './credential-store.js';

const MAGIC = Buffer.from('PCS1');
const IV_BYTES = 12;

/**
 * Encrypts a record with AES-256-GCM: a random 12-byte IV each time, and the record's id as
 * associated data, so sealed bytes moved to another id do not open.
 */
export function seal(key: Uint8Array, id: string, record: StoredRecord): Buffer {
  const iv = randomBytes(IV_BYTES);
  const sealed = gcm(key, iv, Buffer.from(id, 'utf8')).encrypt(Buffer.from(JSON.stringify(record), 'utf8'));
  return Buffer.concat([MAGIC, iv, sealed]);
}

/**
 * Opens sealed bytes, or refuses: never an empty record in place of one that does not decrypt.
 * @throws GatewayError `DECRYPT_FAILED` (the stored bytes are left as they are).
 */
export function unseal(key: Uint8Array, id: string, bytes: Uint8Array, where: string): StoredRecord {
  const data = Buffer.from(bytes);
  if (data.length < MAGIC.length + IV_BYTES + 16 || !data.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new GatewayError('DECRYPT_FAILED', `A stored credential is not in the store format; ${where} was kept as it is.`, { data: { id } });
  }
  try {
    const iv = data.subarray(MAGIC.length, MAGIC.length + IV_BYTES);
    const plain = gcm(key, iv, Buffer.from(id, 'utf8')).decrypt(data.subarray(MAGIC.length + IV_BYTES));
    return JSON.parse(Buffer.from(plain).toString('utf8')) as StoredRecord;
  } catch (error) {
    // Wrong key, tampered bytes, or bytes copied from another record.
    throw new GatewayError('DECRYPT_FAILED', `A stored credential could not be decrypted (wrong key or tampered data); ${where} was kept as it is.`, {
      cause: error,
      data: { id },
    });
  }
}
