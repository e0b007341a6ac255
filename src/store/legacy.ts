import { chmod, readFile, rename } from 'node:fs/promises';
import { GatewayError } from '../errors.js';
import type { CredentialStore, StoredRecord } from './credential-store.js';
import { checkToken, normalisePreimage } from './validate.js';

/**
 * Moves a legacy plaintext credential file (a JSON object of id → record, with `macaroon` or
 * `token` and `preimage` fields) into the encrypted store, then renames it to `<path>.bak`
 * (0600) and warns: delete the backup once the migration is checked. Records that fail
 * validation are left out and counted. Returns how many were migrated; 0 when there is no file.
 *
 * @throws GatewayError `CREDENTIAL_INVALID` when the file is not such a JSON object (it is kept).
 */
export async function migrateLegacyFile(store: CredentialStore, path: string, warn: (message: string) => void): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError('CREDENTIAL_INVALID', `The legacy credential file ${path} is not JSON; it was kept as it is.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayError('CREDENTIAL_INVALID', `The legacy credential file ${path} is not a JSON object; it was kept as it is.`);
  }
  let migrated = 0;
  let skipped = 0;
  for (const [id, value] of Object.entries(parsed as Record<string, Record<string, unknown>>)) {
    try {
      const token = checkToken(asString(value.token ?? value.macaroon));
      const preimage = normalisePreimage(asString(value.preimage));
      const record: StoredRecord = { ...(value as StoredRecord), token, preimage };
      await store.put(id, record);
      migrated += 1;
    } catch {
      skipped += 1;
    }
  }
  await chmod(path, 0o600);
  await rename(path, `${path}.bak`);
  warn(
    `Migrated ${migrated} plaintext credentials from ${path} into the encrypted store${skipped > 0 ? ` (${skipped} invalid ones left out)` : ''}. ` +
      `The original is kept as ${path}.bak: delete it once you have checked the migration.`,
  );
  return migrated;
}

function asString(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
