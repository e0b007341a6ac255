import { readFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { jsonlFileSink } from '../../src/audit/index.js';
import { createGateway, defineTool, type Gateway } from '../../src/index.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Opens the real file and counts its fdatasync calls, with the file size each one covered. */
function countingOpen(): { openFile: (path: string, flags: string, mode: number) => Promise<FileHandle>; syncs: number; syncedBytes: number; fail: string | undefined } {
  const counter = {
    syncs: 0,
    syncedBytes: 0,
    /** When set, datasync fails with this errno code (a failing disk). */
    fail: undefined as string | undefined,
    async openFile(path: string, flags: string, mode: number): Promise<FileHandle> {
      const handle = await open(path, flags, mode);
      return new Proxy(handle, {
        get(target, property) {
          if (property === 'datasync') {
            return async () => {
              if (counter.fail !== undefined) throw Object.assign(new Error(`datasync: ${counter.fail}`), { code: counter.fail });
              const { size } = await target.stat();
              await target.datasync();
              counter.syncs += 1;
              counter.syncedBytes = size;
            };
          }
          const value = Reflect.get(target, property, target) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
  return counter;
}

async function gateway(path: string, durability: 'sync' | 'buffered', counter = countingOpen(), backpressureTimeoutMs = 5000): Promise<Gateway> {
  // A flush timer that never fires within a test: whatever is on disk got there another way.
  const sink = jsonlFileSink({ path, openFile: (p, f, m) => counter.openFile(p, f, m) });
  const gw = await createGateway(
    { policy: { allowTools: ['demo.*'] }, audit: { sinks: [sink], durability, flushIntervalMs: 60_000, backpressureTimeoutMs } },
    { logger: { warn: () => undefined } },
  );
  gw.register(
    defineTool({
      name: 'demo.echo',
      description: 'x',
      inputSchema: z.object({ n: z.number() }),
      execute: async ({ n }) => {
        await new Promise((resolve) => setTimeout(resolve, n % 3));
        return n;
      },
    }),
  );
  return gw;
}

describe('audit durability', () => {
  it('head() reflects every accepted record before any flush, and the file catches up on flush', async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    await using gw = await gateway(path, 'buffered');
    await gw.call('demo.echo', { n: 1 });
    await gw.call('demo.echo', { n: 2 });
    const head = gw.audit.head();
    expect(head?.seq).toBe(2);
    expect(readFileSync(path, 'utf8')).toBe(''); // buffered: nothing on disk yet
    await gw.audit.flush();
    const last = JSON.parse(readFileSync(path, 'utf8').trim().split('\n').at(-1) as string) as { seq: number; hash: string };
    expect({ seq: last.seq, hash: last.hash }).toEqual(head);
  });

  it("'sync': each call resolves only once its record is in the file and fdatasync'ed, with no flush timer", async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    const counter = countingOpen();
    await using gw = await gateway(path, 'sync', counter);
    await gw.call('demo.echo', { n: 1 }, { requestId: 'first-call' });
    const text = readFileSync(path, 'utf8');
    expect(text).toContain('"request_id":"first-call"');
    expect(counter.syncs).toBe(1);
    expect(counter.syncedBytes).toBe(Buffer.byteLength(text));
  });

  it("'sync': 32 concurrent calls share fdatasyncs (group commit), and every one is durable when it resolves", async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    const counter = countingOpen();
    await using gw = await gateway(path, 'sync', counter);
    const late: string[] = [];
    await Promise.all(
      Array.from({ length: 32 }, (_, n) =>
        gw.call('demo.echo', { n }, { requestId: `call-${n}` }).then(() => {
          const synced = readFileSync(path).subarray(0, counter.syncedBytes).toString('utf8');
          if (!synced.includes(`"request_id":"call-${n}"`)) late.push(`call-${n}`);
        }),
      ),
    );
    expect(late).toEqual([]);
    expect(readFileSync(path, 'utf8').trim().split('\n')).toHaveLength(32);
    expect(counter.syncs).toBeGreaterThan(0);
    expect(counter.syncs).toBeLessThanOrEqual(8); // one sync per call would be 32
  });

  it("'buffered' (the default): a call returns before its record reaches the file", async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    const counter = countingOpen();
    await using gw = await gateway(path, 'buffered', counter);
    await gw.call('demo.echo', { n: 1 });
    expect(readFileSync(path, 'utf8')).toBe('');
    expect(counter.syncs).toBe(0);
  });

  it("'sync': a failing sync rejects the call with AUDIT_UNAVAILABLE, loses no record, and the next call writes both", async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    const counter = countingOpen();
    await using gw = await gateway(path, 'sync', counter);
    counter.fail = 'EIO';
    await expect(gw.call('demo.echo', { n: 1 }, { requestId: 'during-failure' })).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(readFileSync(path, 'utf8')).toBe(''); // the torn write was cut back
    expect(gw.audit.health()).toMatchObject({ healthy: false, queued: 1 });
    counter.fail = undefined;
    await gw.call('demo.echo', { n: 2 }, { requestId: 'after-failure' });
    const ids = readFileSync(path, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { request_id: string }).request_id);
    expect(ids).toEqual(['during-failure', 'after-failure']);
  });

  it("'sync': a disk that never answers refuses the call after backpressureTimeoutMs instead of holding it", async () => {
    await using dir = await tempDir();
    const path = dir.join('audit.jsonl');
    const counter = countingOpen();
    let release: (() => void) | undefined;
    const hung = new Promise<void>((resolve) => (release = resolve));
    const gw = await gateway(path, 'sync', { ...counter, openFile: async (p, f, m) => {
      const handle = await counter.openFile(p, f, m);
      return new Proxy(handle, { get: (target, property) => (property === 'datasync' ? () => hung : (Reflect.get(target, property, target) as unknown)) });
    } }, 200);
    const started = Date.now();
    await expect(gw.call('demo.echo', { n: 1 })).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(2000);
    release?.();
    await gw.close();
    expect(readFileSync(path, 'utf8')).toContain('"tool":"demo.echo"');
  });
});
