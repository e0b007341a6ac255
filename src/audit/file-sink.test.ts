import { createHash } from 'node:crypto';
import { readFile, stat, writeFile, appendFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { sampleRecord } from '../../test/helpers/audit.js';
import { tempDir } from '../../test/helpers/temp-dir.js';
import { jsonlFileSink } from './file-sink.js';
import { createAuditLog } from './log.js';
import type { AuditRecord } from './record.js';
import { verifyAuditLog } from './verify.js';

function record(i: number): AuditRecord {
  return sampleRecord({ timestamp: new Date(i * 1000).toISOString(), request_id: `req-${i}` });
}

describe('jsonl file sink', () => {
  it('creates the file with mode 0600 and writes one chained line per record', async () => {
    await using dir = await tempDir();
    const sink = jsonlFileSink({ path: dir.join('logs', 'audit.jsonl') });
    await sink.open?.();
    await sink.write([record(1), record(2)]);
    await sink.close?.();
    expect((await stat(dir.join('logs', 'audit.jsonl'))).mode & 0o777).toBe(0o600);
    const lines = (await readFile(dir.join('logs', 'audit.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.seq)).toEqual([1, 2]);
    expect(lines[1]?.prev_hash).toBe(lines[0]?.hash);
    expect(sink.head()).toEqual({ seq: 2, hash: lines[1]?.hash });
  });

  it('tightens the mode of an existing file to 0600', async () => {
    await using dir = await tempDir();
    await writeFile(dir.join('audit.jsonl'), '', { mode: 0o644 });
    const sink = jsonlFileSink({ path: dir.join('audit.jsonl') });
    await sink.open?.();
    await sink.close?.();
    expect((await stat(dir.join('audit.jsonl'))).mode & 0o777).toBe(0o600);
  });

  it('continues the chain when reopened', async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    for (const batch of [[record(1)], [record(2), record(3)]]) {
      const sink = jsonlFileSink({ path });
      await sink.open?.();
      await sink.write(batch);
      await sink.close?.();
    }
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 3 });
  });

  it('cuts a line torn by a crash, warns, and records the cut as an audit record; the chain stays valid', async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    const first = jsonlFileSink({ path });
    await first.open?.();
    await first.write([record(1)]);
    const oldHead = first.head();
    await first.close?.();
    const torn = '{"seq":2,"timestamp":"19';
    await appendFile(path, torn);
    const warnings: string[] = [];
    const second = jsonlFileSink({ path, warn: (m) => warnings.push(m) });
    await second.open?.();
    // The repair record is on disk as soon as open() returns.
    const afterOpen = (await readFile(path, 'utf8')).split('\n');
    expect(afterOpen).toHaveLength(3);
    expect(afterOpen[2]).toBe('');
    const repair = JSON.parse(afterOpen[1] as string) as { seq: number; tool: string; prev_hash: string; details: Record<string, unknown> };
    expect(repair).toMatchObject({ seq: 2, tool: 'audit.repair', prev_hash: oldHead?.hash });
    expect(repair.details).toEqual({
      torn_bytes: torn.length,
      torn_sha256: createHash('sha256').update(torn).digest('hex'),
      old_head_seq: 1,
      old_head_hash: oldHead?.hash,
    });
    await second.write([record(2)]);
    await second.close?.();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/removed 24 bytes/);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 3 });
    expect(await readFile(path, 'utf8')).not.toContain(torn);
  });

  it('records the repair of a file that held only a torn line', async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    await writeFile(path, '{"seq":1,"ti');
    const sink = jsonlFileSink({ path, warn: () => undefined });
    await sink.open?.();
    await sink.close?.();
    const [line] = (await readFile(path, 'utf8')).split('\n');
    expect(JSON.parse(line as string)).toMatchObject({ seq: 1, tool: 'audit.repair', details: { torn_bytes: 12, old_head_seq: 0, old_head_hash: '0'.repeat(64) } });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 1 });
  });

  it('refuses to append to a file that is not an audit log', async () => {
    await using dir = await tempDir();
    await writeFile(dir.join('notes.txt'), 'hello\nworld\n');
    const sink = jsonlFileSink({ path: dir.join('notes.txt') });
    await expect(sink.open?.()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await sink.close?.();
    expect(await readFile(dir.join('notes.txt'), 'utf8')).toBe('hello\nworld\n');
  });
});

describe('jsonl file sink behind the audit log', () => {
  it('encodes records as they come and writes them all on flush, chained in order', async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    const log = createAuditLog({ sinks: [jsonlFileSink({ path })], flushIntervalMs: 60_000, maxBatch: 4 });
    await log.open();
    for (let i = 1; i <= 10; i++) {
      expect(log.tryReserve()).toBe(true);
      log.record(record(i));
    }
    await log.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.request_id)).toEqual(Array.from({ length: 10 }, (_, i) => `req-${i + 1}`));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 10 });
  });

  it('keeps staged records when the disk refuses them and reports the sink as failing', async () => {
    // /dev/full accepts the open and fails every write with ENOSPC.
    const errors: unknown[] = [];
    const log = createAuditLog({ sinks: [jsonlFileSink({ path: '/dev/full', fsync: false })], flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    await log.open();
    for (let i = 1; i <= 3; i++) {
      log.tryReserve();
      log.record(record(i));
    }
    await expect(log.flush()).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE', data: { queued: 3 } });
    await expect(log.flush()).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE', data: { queued: 3 } });
    expect(log.health()).toMatchObject({ healthy: false, queued: 3 });
    expect(errors).toHaveLength(2);
    await expect(log.close()).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
  });
});

describe('jsonl file sink: line format', () => {
  // Lines written by the version before the one-pass encoder (pure-JS SHA-256, the line built
  // from a string): the bytes, and so every hash, must stay exactly the same.
  const records: AuditRecord[] = [
    { timestamp: '2026-01-01T00:00:00.000Z', request_id: 'req-1', tool: 'demo.echo', actor: 'agent-1', args_sha256: 'a'.repeat(64), decision: 'allow', reason: 'allowed by allowTools "demo.*"', duration_ms: 3, result_bytes: 12, error_code: null },
    { timestamp: '2026-01-01T00:00:01.000Z', request_id: 'req-2', tool: 'demo.echo', actor: 'agent-\u00e9\u2028\u{1f600}', args_sha256: null, decision: 'deny', reason: 'unknown key "k\\u2028"', duration_ms: 0, result_bytes: 0, error_code: 'POLICY_DENIED' },
    { timestamp: '2026-01-01T00:00:02.000Z', request_id: 'req-3', tool: 'pay.fetch', actor: null, args_sha256: 'b'.repeat(64), decision: 'allow', reason: 'paid', duration_ms: 1, result_bytes: 0, error_code: null, details: { z: 1, a: 'x', m: true, n: null, origin: 'https://ex.com/\u00e9' } },
  ];
  const golden = {
    plain: ['8bd0b223203434615fe00eb0a489b3b9959986a9e0646e8d52a2b0bc1d126e12', 'b055f7a9bb57301c07ecac532d3a18826b1b8192687bf49a7acbc1d91be30225', '8d84a3847c69108b968e8b7f13990af9446aec4f7e65b795f31c93221b4794d6'],
    keyed: ['c5e1a8317ebd64ee377c278224c91f4c46a34f0ff4beb3934e7a51b11b12008d', '74c88d725846e3f2ec65001bfdacc799382ab52908869347f6a6e771ffa88927', 'ea9917579eeee1f3515aaa2ecbaf8d04b778bdf165649bb8a328facce12d6728'],
  };
  const providerKey = new Uint8Array(32).fill(7);

  for (const kind of ['plain', 'keyed'] as const) {
    it(`writes the same bytes as earlier versions (${kind}, ASCII and non-ASCII records, details)`, async () => {
      await using dir = await tempDir();
      const path = dir.join('audit.jsonl');
      const sink = jsonlFileSink({ path, fsync: false, ...(kind === 'keyed' && { key: { description: 'test key', getKey: () => Promise.resolve(providerKey) } }) });
      await sink.open();
      await sink.write(records);
      await sink.close();
      const text = await readFile(path, 'latin1');
      const lines = text.split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => (JSON.parse(l) as { hash: string }).hash)).toEqual(golden[kind]);
      // Line 2 holds escaped non-ASCII, line 1 and 3 take the one-pass path: every byte is ASCII.
      expect(/^[\x20-\x7e\n]*$/.test(text)).toBe(true);
      expect(lines[1]).toContain('"actor":"agent-\\u00e9\\u2028\\ud83d\\ude00"');
      expect(lines[0]).toBe(
        `{"actor":"agent-1","args_sha256":"${'a'.repeat(64)}","decision":"allow","duration_ms":3,"error_code":null,"prev_hash":"${'0'.repeat(64)}","reason":"allowed by allowTools \\"demo.*\\"","request_id":"req-1","result_bytes":12,"seq":1,"timestamp":"2026-01-01T00:00:00.000Z","tool":"demo.echo","hash":"${golden[kind][0]}"}`,
      );
      const verdict = await verifyAuditLog(path, kind === 'keyed' ? { key: providerKey } : {});
      expect(verdict).toMatchObject({ ok: true, records: 3 });
      if (kind === 'keyed') expect((await verifyAuditLog(path)).ok).toBe(false);
    });
  }
});
