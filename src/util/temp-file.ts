import { randomBytes } from 'node:crypto';
import { open, unlink } from 'node:fs/promises';

/**
 * Writes `bytes` to a new private file beside `target` (mode 0600, never an existing name),
 * synced to disk, and returns its path: the caller then moves it into place with `rename`
 * (replace) or `link` (never replace). A failed write removes the partial file, so no half
 * secret is left behind.
 */
export async function writeTempFile(target: string, bytes: string | Uint8Array): Promise<string> {
  const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return temp;
}
