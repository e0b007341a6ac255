import { copyFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkToken, createCredentialStore, injectedKey, keyFile, migrateLegacyFile, normalisePreimage } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';

const PREIMAGE = 'AB'.repeat(32);
const KEY = new Uint8Array(32).fill(7);
const record = { kind: 'l402', origin: 'https://api.example', token: 'AgEEbHNhdA', preimage: PREIMAGE.toLowerCase() };

async function open(dir: string, key = KEY) {
  return createCredentialStore({ dir: join(dir, 'store'), keyProvider: injectedKey(key), confineTo: dir });
}

async function files(dir: string): Promise<string[]> {
  return (await readdir(join(dir, 'store'))).sort();
}

describe('credential store', () => {
  it('round-trips a record, encrypted at rest in a 0600 file inside a 0700 directory', async () => {
    await using dir = await tempDir();
    const store = await open(dir.path);
    await store.put('l402:https://api.example/v1', record);
    expect(await store.get('l402:https://api.example/v1')).toEqual(record);
    expect(await store.get('missing')).toBeUndefined();
    const [name] = await files(dir.path);
    const path = join(dir.path, 'store', name ?? '');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir.path, 'store'))).mode & 0o777).toBe(0o700);
    const raw = await readFile(path);
    expect(raw.includes(Buffer.from(record.preimage))).toBe(false);
    expect(raw.includes(Buffer.from('api.example'))).toBe(false);
  });

  it('binds each record to its id: a file copied onto another id does not decrypt, and is kept', async () => {
    await using dir = await tempDir();
    const store = await open(dir.path);
    await store.put('a', record);
    await store.put('b', { ...record, token: 'other' });
    const [first, second] = await files(dir.path);
    const before = await readFile(join(dir.path, 'store', first ?? ''));
    await copyFile(join(dir.path, 'store', first ?? ''), join(dir.path, 'store', second ?? ''));
    const victim = (await store.get('a').catch(() => undefined)) === undefined ? 'a' : 'b';
    await expect(store.get(victim)).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    expect(await readFile(join(dir.path, 'store', first ?? ''))).toEqual(before);
  });

  it('refuses to decrypt with the wrong key and never overwrites or empties the file', async () => {
    await using dir = await tempDir();
    await (await open(dir.path)).put('a', record);
    const [name] = await files(dir.path);
    const before = await readFile(join(dir.path, 'store', name ?? ''));
    const wrong = await open(dir.path, new Uint8Array(32).fill(9));
    await expect(wrong.get('a')).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    expect(await readFile(join(dir.path, 'store', name ?? ''))).toEqual(before);
    await writeFile(join(dir.path, 'store', name ?? ''), 'garbage');
    await expect((await open(dir.path)).get('a')).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  });

  it('serialises concurrent writes to one id: the last one wins and no temp file is left', async () => {
    await using dir = await tempDir();
    const store = await open(dir.path);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put('same', { ...record, n: i })));
    expect(await store.get('same')).toMatchObject({ n: 19 });
    expect(await files(dir.path)).toHaveLength(1);
  });

  it('leaves the old record when a write died before its rename (a stray temp file)', async () => {
    await using dir = await tempDir();
    const store = await open(dir.path);
    await store.put('a', record);
    const [name] = await files(dir.path);
    await writeFile(join(dir.path, 'store', `${name ?? ''}.dead.tmp`), 'half a write');
    expect(await store.get('a')).toEqual(record);
  });

  it('deletes a record', async () => {
    await using dir = await tempDir();
    const store = await open(dir.path);
    await store.put('a', record);
    await store.delete('a');
    expect(await store.get('a')).toBeUndefined();
    await store.delete('a');
  });

  it('refuses a directory outside the confinement', async () => {
    await using dir = await tempDir();
    await using other = await tempDir();
    await expect(createCredentialStore({ dir: join(other.path, 'store'), keyProvider: injectedKey(KEY), confineTo: dir.path })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
  });

  it('keeps a generated key in a 0600 file and reuses it', async () => {
    await using dir = await tempDir();
    const provider = keyFile(join(dir.path, 'keys', 'store.key'));
    const key = await provider.getKey();
    expect(key).toHaveLength(32);
    expect((await stat(join(dir.path, 'keys', 'store.key'))).mode & 0o777).toBe(0o600);
    expect(await keyFile(join(dir.path, 'keys', 'store.key')).getKey()).toEqual(key);
    const store = await createCredentialStore({ dir: join(dir.path, 'store'), keyProvider: provider, confineTo: dir.path });
    await store.put('a', record);
    const again = await createCredentialStore({ dir: join(dir.path, 'store'), keyProvider: keyFile(join(dir.path, 'keys', 'store.key')), confineTo: dir.path });
    expect(await again.get('a')).toEqual(record);
  });

  it('migrates a legacy plaintext file, keeps a 0600 backup and warns', async () => {
    await using dir = await tempDir();
    const store = await open(dir.path);
    const legacy = join(dir.path, 'credentials.json');
    await writeFile(legacy, JSON.stringify({ one: { macaroon: 'AgEEbHNhdA', preimage: PREIMAGE }, bad: { macaroon: 'x y', preimage: '12' } }), { mode: 0o644 });
    const warnings: string[] = [];
    expect(await migrateLegacyFile(store, legacy, (m) => warnings.push(m))).toBe(1);
    expect(await store.get('one')).toMatchObject({ token: 'AgEEbHNhdA', preimage: PREIMAGE.toLowerCase() });
    expect((await stat(`${legacy}.bak`)).mode & 0o777).toBe(0o600);
    expect(warnings.join()).toMatch(/1 invalid/);
    expect(await migrateLegacyFile(store, legacy, (m) => warnings.push(m))).toBe(0);
  });
});

describe('credential validation', () => {
  it('accepts exactly 64 hex characters as a preimage, in lower case', () => {
    expect(normalisePreimage(PREIMAGE)).toBe(PREIMAGE.toLowerCase());
    for (const bad of ['', 'ab'.repeat(31), 'ab'.repeat(33), `${'ab'.repeat(31)}zz`, `${'ab'.repeat(32)}\r\n`]) {
      expect(() => normalisePreimage(bad)).toThrow(expect.objectContaining({ code: 'CREDENTIAL_INVALID' }) as Error);
    }
  });

  it('accepts base64 and base64url tokens only (no header injection)', () => {
    expect(checkToken('AgEEbHNhdA-_==')).toBe('AgEEbHNhdA-_==');
    for (const bad of ['', 'a b', 'a:b', 'a\r\nX-Evil: 1', 'a,b']) {
      expect(() => checkToken(bad)).toThrow(expect.objectContaining({ code: 'CREDENTIAL_INVALID' }) as Error);
    }
  });
});
