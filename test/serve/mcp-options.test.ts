import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serveMcpHttp } from '../../src/adapters/mcp/index.js';
import { createGateway, defineTool, type Gateway } from '../../src/index.js';
import { isGatewayError } from '../../src/errors.js';

const quiet = { logger: { warn: () => undefined } };

function echo(gw: Gateway, name: string, executed: string[]): void {
  gw.register(defineTool({ name, description: 'Echoes.', inputSchema: z.strictObject({ text: z.string() }), execute: ({ text }) => (executed.push(name), { text }) }));
}

describe('serveMcpHttp /health and /ready', () => {
  it('answers /ready 503 once an audit sink fails, with no detail; /health stays 200; other methods and paths are refused', async () => {
    let failing = false;
    const sink = { name: 'flaky-siem', write: () => (failing ? Promise.reject(new Error('disk full at /var/secret')) : Promise.resolve()) };
    await using gw = await createGateway({ policy: { allowTools: ['demo.*'] }, audit: { sinks: [sink], flushIntervalMs: 10 } }, quiet);
    echo(gw, 'demo.echo', []);
    await using server = await serveMcpHttp(gw, { warn: () => undefined, bearerToken: 'secret-token' });
    const base = new URL(server.url);
    const get = async (path: string, method = 'GET') => {
      const res = await request(new URL(path, base), { method, headers: { host: 'probe.internal:9' } });
      return { status: res.statusCode, body: await res.body.text() };
    };
    expect(await get('/ready')).toEqual({ status: 200, body: '{"status":"ok"}' });
    failing = true;
    await gw.call('demo.echo', { text: 'x' }).catch(() => undefined);
    await expect.poll(async () => (await get('/ready')).status).toBe(503);
    const ready = await get('/ready');
    expect(ready.body).toBe('{"status":"unavailable"}');
    expect(ready.body).not.toMatch(/flaky|disk|secret/);
    expect(await get('/health')).toEqual({ status: 200, body: '{"status":"ok"}' });
    expect((await get('/health', 'POST')).status).toBe(405);
    expect((await get('/healthz')).status).toBe(403); // not a probe: the Host check applies
    failing = false; // the sink recovers: ready again, and the queued record is written at close
    await expect.poll(async () => (await get('/ready')).status).toBe(200);
  });

  it('takes a ready() of the host', async () => {
    await using gw = await createGateway({}, quiet);
    let up = false;
    await using server = await serveMcpHttp(gw, { warn: () => undefined, ready: () => up });
    const status = async () => (await request(new URL('/ready', server.url))).statusCode;
    expect(await status()).toBe(503);
    up = true;
    expect(await status()).toBe(200);
  });
});

describe('MCP tool names', () => {
  it("with toolNames 'underscore': safe names listed, mapped back on call, the audit names the real tool", async () => {
    const executed: string[] = [];
    const records: { tool: string; decision: string }[] = [];
    await using gw = await createGateway({ policy: { allowTools: ['acme.*'], denyTools: ['acme.admin.reset'] }, audit: { sinks: [{ name: 'mem', write: (batch) => { records.push(...batch); return Promise.resolve(); } }] } }, quiet);
    echo(gw, 'acme.search.issues', executed);
    echo(gw, 'acme.admin.reset', executed);
    await using server = await serveMcpHttp(gw, { warn: () => undefined, toolNames: 'underscore' });
    const client = new Client({ name: 't', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(server.url)));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['acme_search_issues']);
    expect(await client.callTool({ name: 'acme_search_issues', arguments: { text: 'hi' } })).toMatchObject({ structuredContent: { text: 'hi' } });
    // A denied tool is not listed, and its shown name does not reach it.
    expect(await client.callTool({ name: 'acme_admin_reset', arguments: { text: 'x' } })).toMatchObject({ isError: true });
    await client.close();
    await gw.audit.flush();
    expect(executed).toEqual(['acme.search.issues']);
    expect(records.map((r) => [r.tool, r.decision])).toEqual([
      ['acme.search.issues', 'allow'],
      ['acme_admin_reset', 'deny'],
    ]);
  });

  it('refuses names that would collide, or not fit in 64 characters, with CONFIG_INVALID before serving', async () => {
    await using gw = await createGateway({ policy: { allowTools: ['*'] } }, quiet);
    echo(gw, 'a.b_c', []);
    echo(gw, 'a_b.c', []);
    const error = await serveMcpHttp(gw, { warn: () => undefined, toolNames: 'underscore' }).catch((e: unknown) => e);
    expect(isGatewayError(error) && error.code).toBe('CONFIG_INVALID');
    expect((error as Error).message).toMatch(/"a.b_c" and "a_b.c" would both be shown as "a_b_c"/);

    await using long = await createGateway({ policy: { allowTools: ['*'] } }, quiet);
    echo(long, `x.${'y'.repeat(63)}`, []);
    const tooLong = await serveMcpHttp(long, { warn: () => undefined, toolNames: 'underscore' }).catch((e: unknown) => e);
    expect(isGatewayError(tooLong) && tooLong.code).toBe('CONFIG_INVALID');
    // dotted (the default) serves both as they are
    await using dotted = await serveMcpHttp(gw, { warn: () => undefined });
    expect(dotted.url).toMatch(/^http:/);
  });
});
