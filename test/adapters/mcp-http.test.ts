import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serveMcpHttp, type McpHttpOptions } from '../../src/adapters/mcp/index.js';
import { createGateway, defineTool } from '../../src/index.js';

async function endpoint(options: McpHttpOptions = {}) {
  const gw = await createGateway({ policy: { allowTools: ['demo.*'] } }, { logger: { warn: () => undefined } });
  gw.register(defineTool({ name: 'demo.echo', description: 'Echoes.', inputSchema: z.strictObject({ text: z.string().max(100) }), execute: ({ text }) => ({ text }) }));
  const server = await serveMcpHttp(gw, { warn: () => undefined, ...options });
  return {
    gw,
    server,
    async [Symbol.asyncDispose]() {
      await server.close();
      await gw.close();
    },
  };
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });

describe('MCP over hardened HTTP', () => {
  it('serves the tools to the real MCP HTTP client on loopback, with security headers', async () => {
    await using e = await endpoint({ bearerToken: 'letmein' });
    const client = new Client({ name: 'http-client', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(e.server.url), { requestInit: { headers: { authorization: 'Bearer letmein' } } }));
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['demo.echo']);
    expect(await client.callTool({ name: 'demo.echo', arguments: { text: 'hi' } })).toMatchObject({ structuredContent: { text: 'hi' } });
    await client.close();
    const res = await post(e.server.url, initialize, { authorization: 'Bearer letmein' });
    await res.body.text();
    expect(res.headers).toMatchObject({
      'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
  });

  it('refuses a missing or wrong bearer token, a foreign Host (DNS rebinding) and a foreign Origin', async () => {
    await using e = await endpoint({ bearerToken: 'letmein' });
    const statuses = [];
    for (const headers of [{}, { authorization: 'Bearer nope' }, { authorization: 'Bearer letmein', host: 'evil.example:80' }, { authorization: 'Bearer letmein', origin: 'https://evil.example' }]) {
      const res = await post(e.server.url, initialize, headers);
      await res.body.text();
      statuses.push(res.statusCode);
    }
    expect(statuses).toEqual([401, 401, 403, 403]);
  });

  it('limits the body size and the request rate per address, ignoring X-Forwarded-For', async () => {
    await using e = await endpoint({ maxRequestsPerMinute: 5, maxBodyBytes: 1000 });
    const big = await post(e.server.url, { ...initialize, padding: 'x'.repeat(2000) });
    await big.body.text();
    expect(big.statusCode).toBe(413);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await post(e.server.url, initialize, { 'x-forwarded-for': `10.0.0.${i}` });
      await res.body.text();
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 4).every((s) => s === 200)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });

  it('keeps CORS off unless configured, and answers a configured origin', async () => {
    await using closed = await endpoint();
    const off = await post(closed.server.url, initialize, { origin: 'https://app.example' });
    await off.body.text();
    expect(off.statusCode).toBe(403);
    await using open = await endpoint({ corsOrigins: ['https://app.example'] });
    const on = await post(open.server.url, initialize, { origin: 'https://app.example' });
    await on.body.text();
    expect(on.statusCode).toBe(200);
    expect(on.headers['access-control-allow-origin']).toBe('https://app.example');
  });
});
