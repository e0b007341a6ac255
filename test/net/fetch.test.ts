import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/http-server.js';
import { testFetch } from './setup.js';

const ok = (body = 'hello'): Parameters<typeof startServer>[0] => (_req, res) => res.end(body);

describe('guarded fetch: pinned connections', () => {
  it('fetches from a host name pinned to its validated loopback address, keeping the Host header', async () => {
    await using server = await startServer(ok('pinned'));
    await using g = await testFetch({ allowedPorts: [server.port] });
    const res = await g.fetch(`http://api.test:${server.port}/path?q=1`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('pinned');
    expect(res.url).toBe(`http://api.test:${server.port}/path?q=1`);
    expect(server.requests[0]?.headers.host).toBe(`api.test:${server.port}`);
    expect(g.dial.dialled).toEqual(['127.0.0.1']);
  });

  it('verifies TLS against the host name, not the pinned address', async () => {
    await using server = await startServer(ok('secure'), { tls: true });
    await using g = await testFetch({ allowedPorts: [server.port] });
    const res = await g.fetch(`https://api.test:${server.port}/`);
    expect(await res.text()).toBe('secure');
    // wrong.test resolves to the same server, whose certificate does not name it.
    await expect(g.fetch(`https://wrong.test:${server.port}/`)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
  });

  it.each([
    ['private.test', 'a private address'],
    ['meta.test', 'the cloud metadata address'],
    ['mixed.test', 'a private address hidden among loopback ones'],
    ['v6mapped.test', 'an IPv4-mapped private address'],
  ])('refuses %s (%s) before any socket is opened', async (host) => {
    await using server = await startServer(ok());
    await using g = await testFetch({ allowedPorts: [server.port] });
    await expect(g.fetch(`http://${host}:${server.port}/`)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
    expect(g.dial.dialled).toEqual([]);
    expect(server.connections).toBe(0);
  });

  it('closes DNS rebinding: each new connection validates the address it dials', async () => {
    // The server closes every connection, so each request resolves the name again.
    await using server = await startServer((_req, res) => res.setHeader('connection', 'close').end('first'));
    await using g = await testFetch({ allowedPorts: [server.port] });
    expect(await (await g.fetch(`http://rebind.test:${server.port}/`)).text()).toBe('first');
    // The second answer is private: refused at connect time, before the socket exists.
    await expect(g.fetch(`http://rebind.test:${server.port}/`)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
    expect(g.resolver.lookups).toEqual(['rebind.test', 'rebind.test']);
    expect(g.dial.dialled).toEqual(['127.0.0.1']);
    expect(server.connections).toBe(1);
  });

  it('refuses IP literals outside allowNetworks, whatever the notation', async () => {
    await using server = await startServer(ok());
    await using g = await testFetch({ allowedDomains: ['127.0.0.2', '[::1]'], allowedPorts: [server.port] });
    await expect(g.fetch(`http://0x7f.0.0.2:${server.port}/`)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
    await expect(g.fetch(`http://[::1]:${server.port}/`)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
    expect(g.dial.dialled).toEqual([]);
  });

  it('refuses an unlisted host and an unlisted port without resolving it', async () => {
    await using server = await startServer(ok());
    await using g = await testFetch({ allowedPorts: [server.port] });
    await expect(g.fetch(`http://unlisted.test:${server.port}/`)).rejects.toMatchObject({ code: 'DOMAIN_NOT_ALLOWED' });
    await expect(g.fetch(`http://api.test:${server.port + 1}/`)).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
    expect(g.resolver.lookups).toEqual([]);
    expect(server.connections).toBe(0);
  });

  it('refuses transport headers given by the caller', async () => {
    await using server = await startServer(ok());
    await using g = await testFetch({ allowedPorts: [server.port] });
    for (const name of ['transfer-encoding', 'connection', 'host', 'te', 'upgrade', 'keep-alive', 'proxy-connection', 'trailer']) {
      await expect(g.fetch(`http://api.test:${server.port}/`, { headers: { [name]: 'x' } }), name).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(server.connections).toBe(0);
  });
});
