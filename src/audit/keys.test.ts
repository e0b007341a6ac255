import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../test/helpers/audit.js';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { injectedKey } from '../store/keys.js';
import { chainLine } from './chain.js';
import { jsonlFileSink } from './file-sink.js';
import type { AuditRecord, ChainedAuditRecord, ChainHead } from './record.js';
import { verifyAuditLog } from './verify.js';

const records = (from: number, to: number): AuditRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => sampleRecord({ request_id: `req-${from + i}`, result_bytes: from + i }));

async function writeLog(path: string, options: Parameters<typeof jsonlFileSink>[0] extends infer O ? Omit<O, 'path'> : never, batches: AuditRecord[][]): Promise<void> {
  const sink = jsonlFileSink({ path, ...options });
  await sink.open();
  for (const batch of batches) await sink.write(batch);
  await sink.close();
}

/** What an attacker without the key does: edit a record, then recompute every SHA-256 link after it. */
async function editAndRehash(path: string, seq: number, keepSignatures = false): Promise<void> {
  const lines = (await readFile(path, 'utf8')).trim().split('\n');
  let head: ChainHead | undefined;
  const out: string[] = [];
  for (const line of lines) {
    const { hash: _hash, prev_hash: _prev, seq: s, head_sig: sig, ...record } = JSON.parse(line) as ChainedAuditRecord & { head_sig?: string };
    if (s === seq) record.result_bytes = 999_999;
    const chained = chainLine(record, head);
    head = chained.head;
    out.push(keepSignatures && sig !== undefined ? `${chained.line.slice(0, -1)},"head_sig":"${sig}"}` : chained.line);
  }
  await writeFile(path, `${out.join('\n')}\n`);
}

describe('keyed audit chain', () => {
  it('verifies with the key, not without it, and a log edited and re-hashed without the key fails with it', async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    const key = randomBytes(32);
    await writeLog(path, { key: injectedKey(key) }, [records(1, 2), records(3, 4)]);
    expect(await verifyAuditLog(path, { key })).toMatchObject({ ok: true, records: 4 });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, line: 1, reason: expect.stringMatching(/keyed chain/) as unknown });
    expect(await verifyAuditLog(path, { key: randomBytes(32) })).toMatchObject({ ok: false, line: 1 });

    await editAndRehash(path, 3);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 4 }); // what an unkeyed chain cannot catch
    expect(await verifyAuditLog(path, { key })).toMatchObject({ ok: false, line: 1 });
  });

  it('continues a keyed chain across a reopen', async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    const key = randomBytes(32);
    await writeLog(path, { key: injectedKey(key) }, [records(1, 2)]);
    await writeLog(path, { key: injectedKey(key) }, [records(3, 3)]);
    expect(await verifyAuditLog(path, { key })).toMatchObject({ ok: true, records: 3 });
  });
});

describe('signed audit heads', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const other = generateKeyPairSync('ed25519');
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();

  it('signs the last record of every write; a third party verifies with the public key alone', async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    await writeLog(path, { signingKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }, [records(1, 3), records(4, 4)]);
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { seq: number; head_sig?: string });
    expect(lines.filter((l) => l.head_sig !== undefined).map((l) => l.seq)).toEqual([3, 4]);
    expect(await verifyAuditLog(path, { publicKey: publicPem })).toMatchObject({ ok: true, records: 4 });
    expect(await verifyAuditLog(path, { publicKey: other.publicKey })).toMatchObject({ ok: false, line: 3, reason: expect.stringMatching(/head_sig does not verify/) as unknown });
  });

  it('fails a forged head signature, an edit re-hashed with or without the old signatures, and an unsigned tail', async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    await writeLog(path, { signingKey: privateKey }, [records(1, 2), records(3, 4)]);
    const good = await readFile(path, 'utf8');

    // A head signed with another key.
    const forger = jsonlFileSink({ path: dir.join('forged.jsonl'), signingKey: other.privateKey });
    await forger.open();
    await forger.write(records(1, 4));
    await forger.close();
    expect(await verifyAuditLog(dir.join('forged.jsonl'), { publicKey })).toMatchObject({ ok: false, line: 4 });

    // A signature of a different head pasted onto the last record.
    const lines = good.trim().split('\n');
    const sig2 = (JSON.parse(lines[1] as string) as { head_sig: string }).head_sig;
    lines[3] = (lines[3] as string).replace(/"head_sig":"[^"]+"/, `"head_sig":"${sig2}"`);
    await writeFile(path, `${lines.join('\n')}\n`);
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false, line: 4 });

    for (const keep of [false, true]) {
      await writeFile(path, good);
      await editAndRehash(path, 3, keep);
      expect(await verifyAuditLog(path)).toMatchObject({ ok: true }); // the SHA-256 chain alone is fooled
      expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false });
    }

    // A record appended by someone without the private key.
    await writeFile(path, good);
    await writeLog(path, {}, [records(5, 5)]);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 5 });
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false, records: 4, reason: expect.stringMatching(/after sequence 4/) as unknown });
  });

  it('refuses a key that is not Ed25519', async () => {
    await using dir = await tempDir();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const sink = jsonlFileSink({ path: dir.join('a.jsonl'), signingKey: rsa.privateKey });
    await expect(sink.open()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(verifyAuditLog(dir.join('a.jsonl'), { publicKey: 'not a pem' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
