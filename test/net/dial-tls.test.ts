import { PassThrough } from 'node:stream';
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { startServer, testCertificate } from '../helpers/http-server.js';
import { fakeResolver, loopbackOnlyDial } from '../helpers/net.js';
import { testZone } from './setup.js';

/** A loopback-only dial that records the protocol it was asked for. */
function recordingDial(tls?: { ca: string }) {
  const inner = loopbackOnlyDial(tls);
  const protocols: string[] = [];
  const dial: buildConnector.connector = (opts, callback) => {
    protocols.push(opts.protocol);
    inner(opts, callback);
  };
  return Object.assign(dial, { protocols, dialled: inner.dialled });
}

async function gateway(port: number, deps: Parameters<typeof createGateway>[1], allowNetworks = ['127.0.0.1/32']) {
  return createGateway(
    { connectors: { http: { allowedDomains: ['api.test', 'wrong.test', 'v6.test'], allowedPorts: [port], allowNetworks, retries: 0 } } },
    { resolver: testZone(), logger: { warn: () => undefined }, ...deps },
  );
}

describe('deps.tls with deps.dial', () => {
  it('uses deps.tls over the TCP socket a custom dial opens, verifying the certificate against the host name', async () => {
    const { cert } = await testCertificate();
    await using server = await startServer((_req, res) => res.end('secure'), { tls: true });
    const dial = recordingDial(); // no CA of its own
    await using gw = await gateway(server.port, { dial, tls: { ca: cert } });
    expect(await (await gw.fetch(`https://api.test:${server.port}/`)).text()).toBe('secure');
    expect(dial.protocols).toEqual(['http:']);
    expect(dial.dialled).toEqual(['127.0.0.1']);
    // wrong.test resolves to the same server, whose certificate does not name it.
    await expect(gw.fetch(`https://wrong.test:${server.port}/`)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(server.requests).toHaveLength(1);
  });

  it('does not ignore deps.tls: without its CA the self-signed certificate is refused, even if the dial trusts it', async () => {
    const { cert } = await testCertificate();
    await using server = await startServer((_req, res) => res.end('secure'), { tls: true });
    await using gw = await gateway(server.port, { dial: recordingDial({ ca: cert }), tls: {} });
    await expect(gw.fetch(`https://api.test:${server.port}/`)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(server.requests).toHaveLength(0);
  });

  it('keeps the old contract without deps.tls: the dial opens https itself, TLS included', async () => {
    const { cert } = await testCertificate();
    await using server = await startServer((_req, res) => res.end('secure'), { tls: true });
    const dial = recordingDial({ ca: cert });
    await using gw = await gateway(server.port, { dial });
    expect(await (await gw.fetch(`https://api.test:${server.port}/`)).text()).toBe('secure');
    expect(dial.protocols).toEqual(['https:']);
  });
});

describe('the post-connect address check a custom dial must satisfy', () => {
  it('destroys a socket connected to another address than the validated one, before any request', async () => {
    await using server = await startServer((_req, res) => res.end('reached'));
    // v6.test validates as ::1; this dial connects to 127.0.0.1 instead (never to ::1).
    const stray: buildConnector.connector = (opts, callback) => buildConnector({ timeout: 5000 })({ ...opts, hostname: '127.0.0.1' }, callback);
    const resolver = fakeResolver({ 'v6.test': ['::1'] });
    await using gw = await createGateway(
      { connectors: { http: { allowedDomains: ['v6.test'], allowedPorts: [server.port], allowNetworks: ['::1/128'], retries: 0 } } },
      { resolver, dial: stray, logger: { warn: () => undefined } },
    );
    const error = (await gw.fetch(`http://v6.test:${server.port}/`).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'SSRF_BLOCKED' });
    expect(error.message).toMatch(/unexpected address/);
    expect(server.requests).toHaveLength(0);
  });

  it('refuses a dial that hands back something without a remote address (not a TCP socket)', async () => {
    await using server = await startServer((_req, res) => res.end('reached'));
    const fake: buildConnector.connector = (_opts, callback) => callback(null, new PassThrough() as unknown as Socket);
    await using gw = await gateway(server.port, { dial: fake });
    const error = (await gw.fetch(`http://api.test:${server.port}/`).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'SSRF_BLOCKED' });
    expect(error.message).toMatch(/unexpected address/);
    expect(server.connections).toBe(0);
  });
});
