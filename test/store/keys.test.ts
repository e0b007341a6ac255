import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { envKey, keyFile } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';

const FORMATS = /base64 text of 32 bytes.*32 raw bytes/;

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a refusal');
}

describe('keyFile', () => {
  it('reads the base64 text of 32 bytes, with or without one trailing newline', async () => {
    await using dir = await tempDir();
    const key = randomBytes(32);
    for (const [name, text] of [['a', key.toString('base64')], ['b', `${key.toString('base64')}\n`], ['c', `${key.toString('base64')}\r\n`]] as const) {
      await writeFile(dir.join(name), text, { mode: 0o600 });
      expect(Buffer.from(await keyFile(dir.join(name)).getKey())).toEqual(key);
    }
  });

  it('reads a raw 32-byte file (head -c 32 /dev/urandom)', async () => {
    await using dir = await tempDir();
    const key = randomBytes(32);
    await writeFile(dir.join('raw'), key, { mode: 0o600 });
    expect(Buffer.from(await keyFile(dir.join('raw')).getKey())).toEqual(key);
  });

  it('refuses every other content with CONFIG_INVALID naming the formats, never printing the content, and leaves the file as it is', async () => {
    await using dir = await tempDir();
    const secret = randomBytes(32).toString('base64');
    const cases: (string | Buffer)[] = [
      `${secret}\n\n`, // two newlines
      ` ${secret}`, // leading space
      secret.slice(0, 43), // no padding
      `-${secret.slice(1)}`, // base64url alphabet
      randomBytes(24).toString('base64'), // 24 bytes: 32 characters of text, not 32 raw bytes
      'correct horse battery staple!!!!', // a 32-character password
      randomBytes(16).toString('hex'), // 16 bytes in hex: 32 characters
      randomBytes(31), // 31 raw bytes
      randomBytes(33), // 33 raw bytes
      randomBytes(64).toString('hex'), // hex is for envKey, not files
      Buffer.alloc(0), // empty
      'x'.repeat(10_000), // large
      `${secret}\0`, // a NUL after the text
    ];
    for (const [i, content] of cases.entries()) {
      const path = dir.join(`bad-${i}`);
      await writeFile(path, content, { mode: 0o600 });
      const error = await refusal(keyFile(path).getKey());
      expect(error.code, String(i)).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(FORMATS);
      const text = Buffer.isBuffer(content) ? content.toString('base64') : content;
      if (text.length > 8) expect(error.message).not.toContain(text.slice(0, 8));
      expect(await readFile(path)).toEqual(Buffer.isBuffer(content) ? content : Buffer.from(content));
    }
  });

  it('refuses a directory and a FIFO without blocking', async () => {
    await using dir = await tempDir();
    expect((await refusal(keyFile(dir.path).getKey())).code).toBe('CONFIG_INVALID');
    execFileSync('mkfifo', [dir.join('fifo')]);
    expect((await refusal(keyFile(dir.join('fifo')).getKey())).code).toBe('CONFIG_INVALID');
  });

  it('creates a missing file (0600) by default, and refuses to with create: false or when the caller asks for no new key', async () => {
    await using dir = await tempDir();
    const made = await keyFile(dir.join('k', 'store.key')).getKey();
    expect(made).toHaveLength(32);
    expect((await stat(dir.join('k', 'store.key'))).mode & 0o777).toBe(0o600);

    const noCreate = await refusal(keyFile(dir.join('none.key'), { create: false }).getKey());
    expect(noCreate.code).toBe('CONFIG_INVALID');
    expect(noCreate.message).toContain('none.key');
    const asked = await refusal(keyFile(dir.join('none.key')).getKey({ create: false }));
    expect(asked.code).toBe('CONFIG_INVALID');
    expect(await readdir(dir.path)).toEqual(['k']); // nothing written
    // The provider's own create: true wins over the caller's request.
    expect(await keyFile(dir.join('boot.key'), { create: true }).getKey({ create: false })).toHaveLength(32);
  });

  it('two processes racing to create the key end up with the same one', async () => {
    await using dir = await tempDir();
    const keys = await Promise.all(Array.from({ length: 8 }, () => keyFile(dir.join('race.key')).getKey()));
    for (const key of keys) expect(key).toEqual(keys[0]);
  });

  it('warns when the file is readable by group or others, without the key in the warning', async () => {
    await using dir = await tempDir();
    const key = randomBytes(32).toString('base64');
    await writeFile(dir.join('open.key'), key);
    await chmod(dir.join('open.key'), 0o644);
    const warnings: string[] = [];
    await keyFile(dir.join('open.key'), { warn: (m) => warnings.push(m) }).getKey();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/readable by group or others/);
    expect(warnings[0]).not.toContain(key);
    await chmod(dir.join('open.key'), 0o600);
    await keyFile(dir.join('open.key'), { warn: (m) => warnings.push(m) }).getKey();
    expect(warnings).toHaveLength(1);
  });

  it('follows a symlink to a valid key file', async () => {
    await using dir = await tempDir();
    const key = randomBytes(32);
    await writeFile(dir.join('real.key'), key, { mode: 0o600 });
    await symlink(dir.join('real.key'), dir.join('link.key'));
    expect(Buffer.from(await keyFile(dir.join('link.key')).getKey())).toEqual(key);
  });
});

describe('envKey', () => {
  it('reads base64 (44 characters) or 64 hex characters from PORTCULLIS_STORE_KEY by default', async () => {
    const key = randomBytes(32);
    expect(Buffer.from(await envKey(undefined, { PORTCULLIS_STORE_KEY: key.toString('base64') }).getKey())).toEqual(key);
    expect(Buffer.from(await envKey('MY_KEY', { MY_KEY: key.toString('hex') }).getKey())).toEqual(key);
    expect(Buffer.from(await envKey('MY_KEY', { MY_KEY: `${key.toString('hex').toUpperCase()}\n` }).getKey())).toEqual(key);
    expect(envKey('MY_KEY').description).toBe('environment variable MY_KEY');
  });

  it('reads process.env when no environment is given', async () => {
    const key = randomBytes(32);
    process.env.PORTCULLIS_TEST_ENV_KEY = key.toString('base64');
    try {
      expect(Buffer.from(await envKey('PORTCULLIS_TEST_ENV_KEY').getKey())).toEqual(key);
    } finally {
      delete process.env.PORTCULLIS_TEST_ENV_KEY;
    }
  });

  it('refuses a missing or malformed variable with CONFIG_INVALID naming the variable, never its value', async () => {
    const missing = await refusal(envKey('FLEET_KEY', {}).getKey());
    expect(missing.code).toBe('CONFIG_INVALID');
    expect(missing.message).toContain('FLEET_KEY');
    expect((await refusal(envKey('FLEET_KEY', { FLEET_KEY: '' }).getKey())).code).toBe('CONFIG_INVALID');
    const values = [
      randomBytes(24).toString('base64'),
      randomBytes(33).toString('base64'),
      randomBytes(31).toString('hex'),
      `${randomBytes(32).toString('hex')}0`,
      randomBytes(32).toString('base64url'),
      'correct horse battery staple correct horse!',
      randomBytes(32).toString('base64').slice(0, 43), // unpadded
    ];
    for (const value of values) {
      const error = await refusal(envKey('FLEET_KEY', { FLEET_KEY: value }).getKey());
      expect(error.code, value).toBe('CONFIG_INVALID');
      expect(error.message).toContain('FLEET_KEY');
      expect(error.message).not.toContain(value.slice(0, 12));
    }
  });

  it('refuses a name that is not an environment variable name', () => {
    for (const name of ['', 'A=B', 'has space', '1ABC', 'x'.repeat(200)]) expect(() => envKey(name, {})).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});
