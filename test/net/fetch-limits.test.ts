import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/http-server.js';
import { testFetch } from './setup.js';

const CHUNK = Buffer.alloc(16 * 1024, 0x61);

describe('guarded fetch: size limit', () => {
  it('refuses a Content-Length over the limit before reading the body', async () => {
    await using server = await startServer((_req, res) => res.writeHead(200, { 'content-length': 5000 }).end(Buffer.alloc(5000)));
    await using g = await testFetch({ allowedPorts: [server.port], maxBytes: 1000 });
    await expect(g.fetch(`http://api.test:${server.port}/`)).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE', data: { contentLength: 5000 } });
  });

  it('cuts a streamed body the moment the limit is passed and closes the connection', async () => {
    let written = 0;
    let closedEarly = false;
    await using server = await startServer((_req, res) => {
      res.on('close', () => (closedEarly = !res.writableFinished));
      // One chunk per tick, so the body is really streamed rather than sitting in socket buffers.
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        written += 1;
        if (written < 200) {
          res.write(CHUNK);
        } else {
          clearInterval(timer);
          res.end();
        }
      }, 2);
    });
    await using g = await testFetch({ allowedPorts: [server.port], maxBytes: 64 * 1024 });
    const res = await g.fetch(`http://api.test:${server.port}/`);
    await expect(res.arrayBuffer()).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closedEarly).toBe(true);
    expect(written).toBeLessThan(200); // 3.2 MiB were on offer; the reader stopped long before
  });

  it('lets a body of exactly the limit through', async () => {
    await using server = await startServer((_req, res) => res.end(Buffer.alloc(1000, 0x62)));
    await using g = await testFetch({ allowedPorts: [server.port], maxBytes: 1000 });
    expect((await (await g.fetch(`http://api.test:${server.port}/`)).arrayBuffer()).byteLength).toBe(1000);
  });
});

describe('guarded fetch: deadlines', () => {
  it('aborts a hop that does not answer within timeoutMs and closes its socket', async () => {
    let socketClosed = false;
    await using server = await startServer((req) => req.socket.once('close', () => (socketClosed = true)));
    await using g = await testFetch({ allowedPorts: [server.port], timeoutMs: 100, retries: 0 });
    const started = Date.now();
    await expect(g.fetch(`http://api.test:${server.port}/`)).rejects.toMatchObject({ code: 'TIMEOUT', data: { timeoutMs: 100 } });
    expect(Date.now() - started).toBeLessThan(2000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(socketClosed).toBe(true);
  });

  it('bounds a whole redirect chain with one total deadline even when each hop is quick enough', async () => {
    await using server = await startServer((req, res) => {
      setTimeout(() => res.writeHead(302, { location: `${req.url ?? '/'}x` }).end(), 150);
    });
    // Each hop (150 ms) is far within timeoutMs; only the chain's total deadline can stop it
    // before maxRedirects. Margins are wide so a loaded machine does not change the verdict.
    await using g = await testFetch({ allowedPorts: [server.port], timeoutMs: 10_000, totalTimeoutMs: 700, maxRedirects: 20 });
    await expect(g.fetch(`http://api.test:${server.port}/`)).rejects.toMatchObject({ code: 'TIMEOUT', data: { timeoutMs: 700 } });
    expect(server.requests.length).toBeGreaterThanOrEqual(1);
    expect(server.requests.length).toBeLessThanOrEqual(6);
  });

  it('applies the deadline to a body that trickles in after the headers', async () => {
    await using server = await startServer((_req, res) => {
      res.write('start');
      // never ends
    });
    // Long enough for the headers to arrive on a loaded machine; the body never completes.
    await using g = await testFetch({ allowedPorts: [server.port], timeoutMs: 1000, retries: 0 });
    const res = await g.fetch(`http://api.test:${server.port}/`);
    await expect(res.text()).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('honours the caller signal with the caller reason', async () => {
    await using server = await startServer(() => undefined);
    await using g = await testFetch({ allowedPorts: [server.port] });
    const reason = new Error('user cancelled');
    const controller = new AbortController();
    setTimeout(() => controller.abort(reason), 20);
    await expect(g.fetch(`http://api.test:${server.port}/`, { signal: controller.signal })).rejects.toBe(reason);
  });
});

describe('guarded fetch: retries', () => {
  function flaky(failures: number, status = 503, headers: Record<string, string> = {}): Parameters<typeof startServer>[0] {
    let seen = 0;
    return (_req, res) => {
      seen += 1;
      if (seen <= failures) res.writeHead(status, headers).end('busy');
      else res.end('ok');
    };
  }

  it('retries an idempotent request on 5xx and 429, then succeeds', async () => {
    await using server = await startServer(flaky(2));
    await using g = await testFetch({ allowedPorts: [server.port] });
    expect(await (await g.fetch(`http://api.test:${server.port}/`)).text()).toBe('ok');
    expect(server.requests).toHaveLength(3);
  });

  it('retries after a dropped connection', async () => {
    let seen = 0;
    await using server = await startServer((req, res) => {
      seen += 1;
      if (seen === 1) req.socket.destroy();
      else res.end('ok');
    });
    await using g = await testFetch({ allowedPorts: [server.port] });
    expect(await (await g.fetch(`http://api.test:${server.port}/`)).text()).toBe('ok');
  });

  it('never retries a POST, a request with credentials or payment headers, or a refusal', async () => {
    await using server = await startServer(flaky(10));
    await using g = await testFetch({ allowedPorts: [server.port] });
    const url = `http://api.test:${server.port}/`;
    expect((await g.fetch(url, { method: 'POST', body: 'x' })).status).toBe(503);
    expect((await g.fetch(url, { headers: { authorization: 'Bearer t' } })).status).toBe(503);
    expect((await g.fetch(url, { headers: { 'x-cashu': 'cashuB' } })).status).toBe(503);
    expect(server.requests).toHaveLength(3);
    await expect(g.fetch(`http://private.test:${server.port}/`)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
    expect(g.resolver.lookups.filter((name) => name === 'private.test')).toHaveLength(1);
  });

  it('honours a short Retry-After and gives up on one longer than maxRetryAfterMs', async () => {
    await using quick = await startServer(flaky(1, 429, { 'retry-after': '0' }));
    await using slow = await startServer(flaky(1, 429, { 'retry-after': '3600' }));
    await using g = await testFetch({ allowedPorts: [quick.port, slow.port], maxRetryAfterMs: 1000 });
    expect((await g.fetch(`http://api.test:${quick.port}/`)).status).toBe(200);
    const res = await g.fetch(`http://api.test:${slow.port}/`);
    expect(res.status).toBe(429);
    expect(slow.requests).toHaveLength(1);
  });
});
