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
