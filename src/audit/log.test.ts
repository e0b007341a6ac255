import { describe, expect, it } from 'vitest';
import { createAuditLog } from './log.js';
import type { AuditRecord, AuditSink } from './record.js';

function record(i: number): AuditRecord {
  return {
    timestamp: new Date(0).toISOString(),
    request_id: `r${i}`,
    tool: 't.x',
    actor: null,
    args_sha256: null,
    decision: 'allow',
    reason: 'ok',
    duration_ms: 0,
    result_bytes: 0,
    error_code: null,
  };
}

/** A sink that keeps what it was given and can be told to fail. */
function memorySink(name = 'memory'): AuditSink & { records: AuditRecord[]; batches: number; failing: boolean } {
  const sink = {
    name,
    records: [] as AuditRecord[],
    batches: 0,
    failing: false,
    write(batch: readonly AuditRecord[]): Promise<void> {
      if (sink.failing) return Promise.reject(new Error('disk full'));
      sink.batches += 1;
      sink.records.push(...batch);
      return Promise.resolve();
    },
  };
  return sink;
}

async function add(log: ReturnType<typeof createAuditLog>, i: number): Promise<void> {
  await log.reserve();
  log.record(record(i));
}

describe('audit log', () => {
  it('batches records and writes them on flush', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sinks: [sink], flushIntervalMs: 60_000 });
    await log.open();
    for (let i = 0; i < 10; i++) await add(log, i);
    expect(sink.records).toHaveLength(0);
    await log.flush();
    expect(sink.records.map((r) => r.request_id)).toEqual(Array.from({ length: 10 }, (_, i) => `r${i}`));
    expect(sink.batches).toBe(1);
    await log.close();
  });

  it('writes on its interval without an explicit flush', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sinks: [sink], flushIntervalMs: 10 });
    await log.open();
    await add(log, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sink.records).toHaveLength(1);
    await log.close();
  });

  it('keeps records of a failing sink and delivers them once it recovers, without duplicating them in the healthy sink', async () => {
    const good = memorySink('good');
    const bad = memorySink('bad');
    bad.failing = true;
    const errors: unknown[] = [];
    const log = createAuditLog({ sinks: [good, bad], flushIntervalMs: 60_000, onError: (e) => errors.push(e) });
    await log.open();
    for (let i = 0; i < 3; i++) await add(log, i);
    await expect(log.flush()).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(log.health()).toMatchObject({ healthy: false, queued: 3, failing: [{ sink: 'bad', error: 'disk full' }] });
    await add(log, 3);
    bad.failing = false;
    await log.flush();
    expect(good.records.map((r) => r.request_id)).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(bad.records.map((r) => r.request_id)).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(log.health()).toEqual({ healthy: true, queued: 0, failing: [] });
    expect(errors).toHaveLength(1);
    await log.close();
  });

  it('applies back-pressure when the queue is full, then refuses after the timeout', async () => {
    const sink = memorySink();
    sink.failing = true;
    const log = createAuditLog({ sinks: [sink], flushIntervalMs: 60_000, maxQueue: 2, backpressureTimeoutMs: 50 });
    await log.open();
    await add(log, 1);
    await add(log, 2);
    const started = Date.now();
    await expect(log.reserve()).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    sink.failing = false;
    await log.close();
    expect(sink.records).toHaveLength(2);
  });

  it('wakes a waiting call as soon as a flush makes room', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sinks: [sink], flushIntervalMs: 60_000, maxQueue: 1, backpressureTimeoutMs: 5000 });
    await log.open();
    await add(log, 1);
    const waiting = log.reserve();
    await log.flush();
    await expect(waiting).resolves.toBeUndefined();
    log.record(record(2));
    await log.close();
    expect(sink.records).toHaveLength(2);
  });

  it('counts reserved room against the bound so concurrent callers cannot overfill it', async () => {
    const sink = memorySink();
    const log = createAuditLog({ sinks: [sink], flushIntervalMs: 60_000, maxQueue: 2, backpressureTimeoutMs: 30 });
    await log.open();
    await log.reserve();
    await log.reserve();
    await expect(log.reserve()).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    log.record(record(1));
    log.record(record(2));
    await log.close();
    expect(sink.records).toHaveLength(2);
  });
});
