import { readFile, writeFile } from 'node:fs/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { tempDir, type TempDir } from '../../test/helpers/temp-dir.js';
import { jsonlFileSink } from './file-sink.js';
import { verifyAuditLog, verifyAuditRecords } from './verify.js';

let dir: TempDir;
let path: string;
let lines: string[];

beforeEach(async () => {
  dir = await tempDir();
  path = dir.join('audit.jsonl');
  const sink = jsonlFileSink({ path });
  await sink.open?.();
  await sink.write(
    Array.from({ length: 5 }, (_, i) => ({
      timestamp: new Date(i).toISOString(),
      request_id: `r${i}`,
      tool: 'fs.readFile',
      actor: null,
      args_sha256: null,
      decision: i % 2 === 0 ? ('allow' as const) : ('deny' as const),
      reason: 'test',
      duration_ms: i,
      result_bytes: i * 10,
      error_code: i % 2 === 0 ? null : ('POLICY_DENIED' as const),
    })),
  );
  await sink.close?.();
  lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
  return () => dir[Symbol.asyncDispose]();
});

async function rewrite(newLines: string[]): Promise<void> {
  await writeFile(path, `${newLines.join('\n')}\n`);
}

describe('verifyAuditLog', () => {
  it('accepts an untouched log', async () => {
    const verdict = await verifyAuditLog(path);
    expect(verdict).toMatchObject({ ok: true, records: 5 });
  });

  it('catches an edited field', async () => {
    await rewrite(lines.map((l, i) => (i === 2 ? l.replace('"decision":"allow"', '"decision":"deny"') : l)));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, line: 3, reason: expect.stringMatching(/edited/) as unknown });
  });

  it('catches a deleted line', async () => {
    await rewrite(lines.filter((_, i) => i !== 1));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, line: 2, records: 1 });
  });

  it('catches an inserted line (a copy of another)', async () => {
    await rewrite([...lines.slice(0, 3), lines[1]!, ...lines.slice(3)]);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, line: 4 });
  });

  it('catches reordered lines', async () => {
    await rewrite([lines[0]!, lines[2]!, lines[1]!, lines[3]!, lines[4]!]);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, line: 2 });
  });

  it('catches a line rewritten with a recomputed hash but a stale link', async () => {
    const forged = JSON.parse(lines[3]!) as Record<string, unknown>;
    forged.prev_hash = 'f'.repeat(64);
    await rewrite(lines.map((l, i) => (i === 3 ? JSON.stringify(forged) : l)));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, line: 4 });
  });

  it('catches a torn line', async () => {
    await rewrite([...lines.slice(0, 4), lines[4]!.slice(0, 30)]);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, line: 5, reason: expect.stringMatching(/JSON/) as unknown });
  });

  it('catches a removed tail only with an anchor, and a rewritten anchor record', async () => {
    const head = JSON.parse(lines[4]!) as { seq: number; hash: string };
    await rewrite(lines.slice(0, 3));
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 3 });
    expect(await verifyAuditLog(path, { expectedHead: { seq: head.seq, hash: head.hash } })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/tail removed/) as unknown,
    });
    const third = JSON.parse(lines[2]!) as { seq: number };
    expect(await verifyAuditLog(path, { expectedHead: { seq: third.seq, hash: 'e'.repeat(64) } })).toMatchObject({ ok: false, line: 3 });
  });
});

describe('verification messages', () => {
  it('quote what a tampered file holds: no raw control characters, escapes or line separators reach the terminal', async () => {
    const evil = '\u001b]0;pwned\u0007\u001b[2J\u2028x';
    const unknown = await verifyAuditRecords([JSON.stringify({ seq: 1, [evil]: 1 })]);
    const sequence = await verifyAuditRecords([JSON.stringify({ seq: evil })]);
    for (const verdict of [unknown, sequence]) {
      expect(verdict.ok).toBe(false);
      const reason = (verdict as { reason: string }).reason;
      expect([...reason].every((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) < 0x7f)).toBe(true);
      expect(reason).toContain('\\u001b');
    }
  });
});

describe('verifyAuditLog: the line must be the bytes the sink wrote', () => {
  const canonical = /the line is not in the canonical form/;

  it.each([
    ['added whitespace', (line: string) => line.replace('"decision":', '"decision": ')],
    ['a number spelled 1.0e0', (line: string) => line.replace('"duration_ms":1,', '"duration_ms":1.0e0,')],
    ['a string with an escape for a plain letter', (line: string) => line.replace('"test"', '"t\\u0065st"')],
    ['a duplicate key read first by other readers', (line: string) => line.replace('{', '{"decision":"allow","tool":"shell.exec",')],
    ['a CR before the newline', (line: string) => `${line}\r`],
  ])('refuses %s, though it parses to the same values', async (_, edit) => {
    expect((await verifyAuditLog(path)).ok).toBe(true);
    await rewrite(lines.map((line, i) => (i === 1 ? edit(line) : line)));
    const verdict = await verifyAuditLog(path);
    expect(verdict).toMatchObject({ ok: false, line: 2, records: 1 });
    if (!verdict.ok) expect(verdict.reason).toMatch(canonical);
  });

  it('refuses a line longer than 1 MiB without reading it whole', async () => {
    await writeFile(path, `${lines[0]}\n${'x'.repeat(3 * 1024 * 1024)}`);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: false, line: 2, reason: expect.stringMatching(/longer than/) as unknown });
  });
});

describe('verifyAuditLog with a public key', () => {
  it('refuses an empty log: there is no signed head to verify', async () => {
    const { generateKeyPairSync } = await import('node:crypto');
    const { publicKey } = generateKeyPairSync('ed25519');
    await writeFile(path, '');
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, records: 0 });
    expect(await verifyAuditLog(path, { publicKey })).toMatchObject({ ok: false, records: 0, reason: expect.stringMatching(/empty/) as unknown });
  });
});
