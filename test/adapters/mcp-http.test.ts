import { connect } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serveMcpHttp, type McpHttpOptions } from '../../src/adapters/mcp/index.js';
import { createGateway, defineTool } from '../../src/index.js';

async function endpoint(options: McpHttpOptions = {}) {
  const gw = await createGateway({ policy: { allowTools: ['demo.*'] } }, { logger: { warn: () => undefined } });
  const executed = { count: 0 };
  gw.register(
    defineTool({
      name: 'demo.echo',
      description: 'Echoes.',
      inputSchema: z.strictObject({ text: z.string().max(100) }),
      execute: ({ text }) => {
        executed.count += 1;
        return { text };
      },
    }),
  );
  const server = await serveMcpHttp(gw, { warn: () => undefined, ...options });
  return {
    gw,
    server,
    executed,
    port: Number(new URL(server.url).port),
    async [Symbol.asyncDispose]() {
      await server.close();
      await gw.close();
    },
  };
}

const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } };
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  request(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers }, body: JSON.stringify(body) });

/** What a raw socket received: status, lower-case headers, body, and whether the server closed the socket. */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  closedByServer: boolean;
}

/**
 * Sends `parts` on a raw TCP connection to 127.0.0.1 (one write each, a tick apart) and reads
 * until the server closes the socket or `waitMs` passes.
 */
function raw(port: number, parts: (string | Buffer)[], waitMs = 2000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closedByServer = false;
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body, closedByServer });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? ((closedByServer = true), finish()) : reject(error)));
    socket.on('connect', () => {
      void (async () => {
        for (const part of parts) {
          if (socket.destroyed) return;
          socket.write(part);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
    });
  });
}

/** A raw POST to /mcp with a JSON body and `Content-Length`. */
function rawPost(port: number, body: unknown, headers: Record<string, string> = {}): Promise<RawAnswer> {
  const payload = Buffer.from(JSON.stringify(body));
  const lines = Object.entries({
    host: `127.0.0.1:${port}`,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-03-26',
    'content-length': String(payload.length),
    connection: 'close',
    ...headers,
  }).map(([name, value]) => `${name}: ${value}`);
  return raw(port, [`POST /mcp HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`, payload]);
}

const callEcho = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'demo.echo', arguments: { text: `m${id}` } } });

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

  it('charges every message of a JSON-RPC batch: a batch of 100 tools/call under a limit of 5 runs nothing', async () => {
    await using e = await endpoint({ maxRequestsPerMinute: 5 });
    const big = await rawPost(e.port, Array.from({ length: 100 }, (_, i) => callEcho(i)));
    expect(big.status).toBe(429);
    expect(e.executed.count).toBe(0);
    // 1 charged by the refused batch; a batch of 3 fits (4), a batch of 2 does not (6 > 5).
    const three = await rawPost(e.port, [callEcho(1), callEcho(2), callEcho(3)]);
    expect(three.status).toBe(200);
    expect(JSON.parse(three.body)).toHaveLength(3);
    expect(e.executed.count).toBe(3);
    const two = await rawPost(e.port, [callEcho(4), callEcho(5)]);
    expect(two.status).toBe(429);
    expect(e.executed.count).toBe(3);
    const single = await rawPost(e.port, callEcho(6));
    expect(single.status).toBe(429);
    expect(e.executed.count).toBe(3);
  });

  it('checks Host, Origin and token before the limiter: 20 refused requests do not lock out the token holder', async () => {
    await using e = await endpoint({ bearerToken: 'letmein', maxRequestsPerMinute: 8 });
    const statuses: number[] = [];
    const bad = [{}, { authorization: 'Bearer nope' }, { authorization: 'Bearer letmein', host: 'evil.example' }, { authorization: 'Bearer letmein', origin: 'https://evil.example' }];
    for (let i = 0; i < 20; i++) statuses.push((await rawPost(e.port, callEcho(i), bad[i % bad.length])).status);
    expect(statuses.slice(0, 8)).toEqual([401, 401, 403, 403, 401, 401, 403, 403]);
    expect(statuses.slice(8).every((s) => s === 429)).toBe(true);
    expect(e.executed.count).toBe(0);
    // The token holder, from the same address, still has its whole limit.
    const client = new Client({ name: 'holder', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(e.server.url), { requestInit: { headers: { authorization: 'Bearer letmein' } } }));
    expect(await client.callTool({ name: 'demo.echo', arguments: { text: 'still here' } })).toMatchObject({ structuredContent: { text: 'still here' } });
    await client.close();
    expect(e.executed.count).toBe(1);
  });

  it('answers an early 413 with Connection: close and then closes the socket (chunked and declared bodies)', async () => {
    await using e = await endpoint({ maxBodyBytes: 1000 });
    const head = `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${e.port}\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n`;
    const chunk = `258\r\n${'x'.repeat(0x258)}\r\n`;
    // Three chunks of 600 bytes, never terminated: the server must answer and close on its own.
    const chunked = await raw(e.port, [head, chunk, chunk, chunk], 3000);
    expect(chunked.status).toBe(413);
    expect(chunked.headers.connection).toBe('close');
    expect(chunked.closedByServer).toBe(true);
    const declared = await raw(e.port, [`POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${e.port}\r\ncontent-type: application/json\r\ncontent-length: 5000\r\n\r\n`, 'x'.repeat(100)], 3000);
    expect(declared.status).toBe(413);
    expect(declared.headers.connection).toBe('close');
    expect(declared.closedByServer).toBe(true);
    expect(e.executed.count).toBe(0);
  });
});
