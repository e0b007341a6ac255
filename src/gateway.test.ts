import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readAudit } from '../test/helpers/audit.js';
import { tempDir, type TempDir } from '../test/helpers/temp-dir.js';
import { hashArgs } from './audit/canonical-json.js';
import { verifyAuditLog } from './audit/verify.js';
import type { GatewayConfig } from './config.js';
import { createGateway, type Gateway } from './gateway.js';
import { defineTool } from './tools.js';

let dir: TempDir;
let auditFile: string;
const warnings: string[] = [];

beforeEach(async () => {
  dir = await tempDir();
  auditFile = dir.join('audit.jsonl');
  warnings.length = 0;
});
afterEach(() => dir[Symbol.asyncDispose]());

const echo = defineTool({
  name: 'demo.echo',
  description: 'Returns its input.',
  inputSchema: z.strictObject({ text: z.string().max(100) }),
  execute: ({ text }) => ({ text }),
});

async function gateway(config: GatewayConfig = {}): Promise<Gateway> {
  const gw = await createGateway(
    { ...config, policy: { allowTools: ['demo.*'], ...config.policy }, audit: { file: auditFile, ...config.audit } },
    { logger: { warn: (m) => warnings.push(m) } },
  );
  gw.register(echo);
  return gw;
}

describe('gw.call pipeline', () => {
  it('runs an allowed tool and audits it once with the seed fields', async () => {
    const gw = await gateway();
    const out = await gw.call('demo.echo', { text: 'hi' }, { actor: 'agent-1', requestId: 'req-1' });
    expect(out).toEqual({ text: 'hi' });
    await gw.close();
    const [record, ...rest] = await readAudit(auditFile);
    expect(rest).toHaveLength(0);
    expect(record).toMatchObject({
      request_id: 'req-1',
      tool: 'demo.echo',
      actor: 'agent-1',
      args_sha256: hashArgs({ text: 'hi' }),
      decision: 'allow',
      reason: 'allowed by allowTools "demo.*"',
      result_bytes: Buffer.byteLength('{"text":"hi"}'),
      error_code: null,
      seq: 1,
    });
    expect(Date.parse(record!.timestamp)).not.toBeNaN();
    expect(record!.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('refuses an unknown tool with TOOL_NOT_FOUND and audits a denial', async () => {
    const gw = await gateway();
    await expect(gw.call('demo.nope', {})).rejects.toMatchObject({ code: 'TOOL_NOT_FOUND' });
    await gw.close();
    expect(await readAudit(auditFile)).toMatchObject([{ tool: 'demo.nope', decision: 'deny', error_code: 'TOOL_NOT_FOUND' }]);
  });

  it('refuses invalid arguments with VALIDATION_FAILED listing the issues, without echoing values', async () => {
    let ran = false;
    const gw = await gateway();
    gw.register(defineTool({ name: 'demo.secret', description: 'x', inputSchema: z.strictObject({ n: z.number() }), execute: () => (ran = true) }));
    const error = await gw.call('demo.secret', { n: 'hunter2-password' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', data: { issues: [{ path: 'n', code: 'invalid_type' }] } });
    expect(String((error as Error).message)).not.toContain('hunter2');
    expect(ran).toBe(false);
    await gw.close();
    const [record] = await readAudit(auditFile);
    expect(record).toMatchObject({ decision: 'deny', error_code: 'VALIDATION_FAILED' });
    expect(JSON.stringify(record)).not.toContain('hunter2');
  });

  it('refuses a tool the policy denies before running it', async () => {
    let ran = false;
    const gw = await gateway({ policy: { denyTools: ['demo.danger'] } });
    gw.register(defineTool({ name: 'demo.danger', description: 'x', inputSchema: z.object({}), execute: () => (ran = true) }));
    gw.register(defineTool({ name: 'other.tool', description: 'x', inputSchema: z.object({}), execute: () => (ran = true) }));
    await expect(gw.call('demo.danger', {})).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'denyTools:demo.danger' } });
    await expect(gw.call('other.tool', {})).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny' } });
    expect(ran).toBe(false);
    await gw.close();
    expect((await readAudit(auditFile)).map((r) => [r.decision, r.error_code])).toEqual([
      ['deny', 'POLICY_DENIED'],
      ['deny', 'POLICY_DENIED'],
    ]);
  });

  it('enforces a per-tool rate limit with RATE_LIMITED', async () => {
    const gw = await gateway({ policy: { perTool: { 'demo.echo': { rateLimit: { maxCalls: 2, windowMs: 60_000 } } } } });
    await gw.call('demo.echo', { text: 'a' });
    await gw.call('demo.echo', { text: 'b' });
    await expect(gw.call('demo.echo', { text: 'c' })).rejects.toMatchObject({ code: 'RATE_LIMITED' });
    await gw.close();
  });

  it('stops the work itself at the timeout (the tool sees its signal abort)', async () => {
    const gw = await gateway({ policy: { perTool: { 'demo.slow': { timeoutMs: 50 } } } });
    let sawAbort = false;
    let finished = false;
    gw.register(
      defineTool({
        name: 'demo.slow',
        description: 'Waits a long time unless aborted.',
        inputSchema: z.object({}),
        execute: (_args, { signal }) =>
          new Promise((resolve, reject) => {
            const timer = setTimeout(() => {
              finished = true;
              resolve('done');
            }, 5000);
            signal.addEventListener('abort', () => {
              sawAbort = true;
              clearTimeout(timer);
              reject(new Error('aborted'));
            });
          }),
      }),
    );
    const started = Date.now();
    await expect(gw.call('demo.slow', {})).rejects.toMatchObject({ code: 'TIMEOUT', data: { timeoutMs: 50 } });
    expect(Date.now() - started).toBeLessThan(2000);
    expect(sawAbort).toBe(true);
    expect(finished).toBe(false);
    await gw.close();
    expect(await readAudit(auditFile)).toMatchObject([{ decision: 'deny', error_code: 'TIMEOUT' }]);
  });

  it('returns TIMEOUT even when a host tool ignores its signal', async () => {
    const gw = await gateway({ policy: { perTool: { 'demo.stubborn': { timeoutMs: 30 } } } });
    gw.register(defineTool({ name: 'demo.stubborn', description: 'x', inputSchema: z.object({}), execute: () => new Promise((r) => setTimeout(r, 300)) }));
    await expect(gw.call('demo.stubborn', {})).rejects.toMatchObject({ code: 'TIMEOUT' });
    await gw.close();
  });

  it("honours the caller's signal: ABORTED, or TIMEOUT for AbortSignal.timeout", async () => {
    const gw = await gateway();
    gw.register(
      defineTool({
        name: 'demo.wait',
        description: 'x',
        inputSchema: z.object({}),
        execute: (_a, { signal }) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('stop')))),
      }),
    );
    const controller = new AbortController();
    const pending = gw.call('demo.wait', {}, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(gw.call('demo.wait', {}, { signal: AbortSignal.timeout(20) })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(gw.call('demo.echo', { text: 'x' }, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
    await gw.close();
    expect((await readAudit(auditFile)).map((r) => [r.decision, r.error_code])).toEqual([
      ['error', 'ABORTED'],
      ['deny', 'TIMEOUT'],
      ['error', 'ABORTED'],
    ]);
  });

  it('refuses a result over maxBytes with RESPONSE_TOO_LARGE', async () => {
    const gw = await gateway({ policy: { perTool: { 'demo.big': { maxBytes: 1000 } } } });
    gw.register(defineTool({ name: 'demo.big', description: 'x', inputSchema: z.object({}), execute: () => 'x'.repeat(2000) }));
    await expect(gw.call('demo.big', {})).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE', data: { maxBytes: 1000, bytes: 2002 } });
    await gw.close();
  });

  it('wraps a host tool crash as TOOL_FAILED without its message, keeping it as the cause', async () => {
    const gw = await gateway();
    gw.register(
      defineTool({
        name: 'demo.crash',
        description: 'x',
        inputSchema: z.object({}),
        execute: () => {
          throw new Error('db password is s3cret');
        },
      }),
    );
    const error = await gw.call('demo.crash', {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TOOL_FAILED' });
    expect((error as Error).message).not.toContain('s3cret');
    expect(((error as Error).cause as Error).message).toContain('s3cret');
    await gw.close();
    const text = await readFile(auditFile, 'utf8');
    expect(text).toContain('"decision":"error"');
    expect(text).not.toContain('s3cret');
  });

  it('refuses arguments that are not JSON and a malformed context', async () => {
    const gw = await gateway();
    await expect(gw.call('demo.echo', { text: 1n })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(gw.call('demo.echo', { text: 'a' }, { requestId: 'has space' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(gw.call('demo.echo', { text: 'a' }, { actor: 'a\nb' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await gw.close();
    const records = await readAudit(auditFile);
    expect(records).toHaveLength(3);
    expect(records.every((r) => r.decision === 'deny' && r.actor === null)).toBe(true);
  });

  it('records every one of many concurrent calls exactly once, in a valid chain', async () => {
    const gw = await gateway({ audit: { maxQueue: 50, flushIntervalMs: 5 } });
    const calls = Array.from({ length: 300 }, (_, i) =>
      i % 3 === 0 ? gw.call('nope.tool', {}).catch(() => 'denied') : gw.call('demo.echo', { text: String(i) }, { requestId: `r-${i}` }),
    );
    await Promise.all(calls);
    await gw.close();
    const records = await readAudit(auditFile);
    expect(records).toHaveLength(300);
    expect(new Set(records.map((r) => r.request_id)).size).toBe(300);
    expect(await verifyAuditLog(auditFile)).toMatchObject({ ok: true, records: 300 });
  });
});

describe('gw.register and gw.listTools', () => {
  it('lists only allowed tools, with zod and JSON schemas', async () => {
    const gw = await gateway();
    gw.register(defineTool({ name: 'secret.tool', description: 'x', inputSchema: z.object({}), execute: () => 1 }));
    const tools = gw.listTools();
    expect(tools.map((t) => t.name)).toEqual(['demo.echo']);
    expect(tools[0]?.jsonSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string', maxLength: 100 } }, required: ['text'] });
    expect(tools[0]?.inputSchema.safeParse({ text: 'x' }).success).toBe(true);
    await gw.close();
  });

  it('lists per actor', async () => {
    const gw = await gateway({ policy: { actors: { restricted: { denyTools: ['demo.echo'] } } } });
    expect(gw.listTools({ actor: 'restricted' })).toEqual([]);
    expect(gw.listTools({ actor: 'other' })).toHaveLength(1);
    await gw.close();
  });

  it('refuses bad and duplicate names', async () => {
    const gw = await gateway();
    expect(() => gw.register({ ...echo })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as unknown);
    expect(() => gw.register({ ...echo, name: 'bad name' })).toThrow(/invalid/);
    await gw.close();
  });
});

describe('gateway lifecycle', () => {
  it('aborts calls in flight on close, audits them, and refuses new calls', async () => {
    const gw = await gateway();
    gw.register(
      defineTool({
        name: 'demo.hang',
        description: 'x',
        inputSchema: z.object({}),
        execute: (_a, { signal }) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(new Error('closed')))),
      }),
    );
    const outcome = gw.call('demo.hang', {}).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 10));
    await gw.close();
    expect(await outcome).toMatchObject({ code: 'ABORTED' });
    await expect(gw.call('demo.echo', { text: 'x' })).rejects.toMatchObject({ code: 'GATEWAY_CLOSED' });
    expect(await readAudit(auditFile)).toMatchObject([{ tool: 'demo.hang', error_code: 'ABORTED' }]);
  });

  it('supports await using', async () => {
    {
      await using gw = await gateway();
      await gw.call('demo.echo', { text: 'x' });
    }
    expect(await readAudit(auditFile)).toHaveLength(1);
  });

  it('continues the audit chain across gateway restarts', async () => {
    for (let i = 0; i < 3; i++) {
      const gw = await gateway();
      await gw.call('demo.echo', { text: String(i) });
      await gw.close();
    }
    expect(await verifyAuditLog(auditFile)).toMatchObject({ ok: true, records: 3 });
  });

  it('exposes the chain head as a tamper anchor', async () => {
    const gw = await gateway();
    await gw.call('demo.echo', { text: 'x' });
    await gw.audit.flush();
    const head = gw.audit.head();
    await gw.close();
    expect(head?.seq).toBe(1);
    expect(await verifyAuditLog(auditFile, { expectedHead: head! })).toMatchObject({ ok: true });
  });

  it('warns when no audit sink is configured or default deny is off', async () => {
    const gw = await createGateway({ policy: { defaultDeny: false } }, { logger: { warn: (m) => warnings.push(m) } });
    await gw.close();
    expect(warnings.join('\n')).toMatch(/No audit sink/);
    expect(warnings.join('\n')).toMatch(/defaultDeny is false/);
  });
});
