import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startServer, type Handler } from '../helpers/http-server.js';
import { testFetch } from './setup.js';

function redirect(res: ServerResponse, status: number, location: string): void {
  res.writeHead(status, { location }).end();
}

/** A server whose /r/<status>?to=<url> answers a redirect and everything else echoes. */
const redirector: Handler = (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const to = url.searchParams.get('to');
  const status = Number(url.pathname.split('/')[2] ?? 302);
  if (url.pathname.startsWith('/r/') && to !== null) return redirect(res, status, to);
  res.end(`${req.method} ${url.pathname}`);
};

describe('guarded fetch: redirects', () => {
  it('follows a redirect and re-checks the new hop in full: a hop into private space is refused', async () => {
    await using server = await startServer(redirector);
    await using g = await testFetch({ allowedPorts: [server.port] });
    const base = `http://api.test:${server.port}`;
    expect(await (await g.fetch(`${base}/r/302?to=/done`)).text()).toBe('GET /done');
    for (const target of [`http://private.test:${server.port}/`, 'http://169.254.169.254/latest/meta-data/', `http://[::ffff:10.0.0.1]:${server.port}/`]) {
      const before = server.requests.length;
      await expect(g.fetch(`${base}/r/302?to=${encodeURIComponent(target)}`), target).rejects.toMatchObject({
        code: expect.stringMatching(/^(SSRF_BLOCKED|DOMAIN_NOT_ALLOWED)$/) as unknown,
      });
      expect(server.requests.length).toBe(before + 1); // only the redirecting hop reached a server
    }
    expect(g.dial.dialled.every((address) => address === '127.0.0.1')).toBe(true);
  });

  it('refuses a downgrade from HTTPS to HTTP', async () => {
    await using plain = await startServer(redirector);
    await using secure = await startServer((_req, res) => redirect(res, 302, `http://api.test:${plain.port}/`), { tls: true });
    await using g = await testFetch({ allowedPorts: [plain.port, secure.port] });
    await expect(g.fetch(`https://api.test:${secure.port}/`)).rejects.toMatchObject({ code: 'REDIRECT_BLOCKED' });
    expect(plain.connections).toBe(0);
  });

  it('stops after maxRedirects and honours redirect: "manual" and "error"', async () => {
    await using server = await startServer((req, res) => redirect(res, 302, `/loop${req.url ?? ''}`));
    await using g = await testFetch({ allowedPorts: [server.port], maxRedirects: 3 });
    await expect(g.fetch(`http://api.test:${server.port}/`)).rejects.toMatchObject({ code: 'REDIRECT_BLOCKED', data: { maxRedirects: 3 } });
    expect(server.requests).toHaveLength(4);
    const manual = await g.fetch(`http://api.test:${server.port}/`, { redirect: 'manual' });
    expect(manual.status).toBe(302);
    expect(manual.headers.get('location')).toBe('/loop/');
    await expect(g.fetch(`http://api.test:${server.port}/`, { redirect: 'error' })).rejects.toMatchObject({ code: 'REDIRECT_BLOCKED' });
  });

  it('keeps method and body on 307/308 and turns 301/302/303 into a GET without body', async () => {
    await using server = await startServer(redirector);
    await using g = await testFetch({ allowedPorts: [server.port] });
    const base = `http://api.test:${server.port}`;
    for (const status of [307, 308]) {
      const res = await g.fetch(`${base}/r/${status}?to=/next`, { method: 'POST', body: 'payload' });
      expect(await res.text()).toBe('POST /next');
      expect(server.requests.at(-1)).toMatchObject({ method: 'POST', body: 'payload' });
    }
    for (const status of [301, 302, 303]) {
      const res = await g.fetch(`${base}/r/${status}?to=/next`, { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
      expect(await res.text()).toBe('GET /next');
      expect(server.requests.at(-1)).toMatchObject({ method: 'GET', body: '' });
      expect(server.requests.at(-1)?.headers['content-type']).toBeUndefined();
    }
  });

  it('strips credentials, payment proofs and injected headers when the origin changes, and keeps them on the same origin', async () => {
    await using server = await startServer(redirector);
    const sensitive = {
      authorization: 'Bearer agent',
      cookie: 'sid=1',
      'x-cashu': 'cashuB...',
      payment: 'p',
      'x-payment': 'xp',
      // Credential-like names the host may set itself: not only the standard ones are stripped.
      'x-api-key': 'HOSTKEY',
      'private-token': 'GL',
      'x-auth-token': 'T',
      'ocp-apim-subscription-key': 'AZ',
    };
    await using g = await testFetch({ allowedPorts: [server.port], injectHeaders: { [`http://api.test:${server.port}`]: { 'x-host-secret': 'only-for-api' } }, warn: () => undefined });
    const same = `http://api.test:${server.port}/r/302?to=/same`;
    await g.fetch(same, { headers: sensitive });
    expect(server.requests.at(-1)?.headers).toMatchObject({ ...sensitive, 'x-host-secret': 'only-for-api' });
    const cross = `http://api.test:${server.port}/r/302?to=${encodeURIComponent(`http://other.test:${server.port}/cross`)}`;
    await g.fetch(cross, { headers: { ...sensitive, 'x-trace': 'kept' } });
    const first = server.requests.at(-2)?.headers ?? {};
    const second = server.requests.at(-1)?.headers ?? {};
    expect(first['x-host-secret']).toBe('only-for-api');
    expect(second['x-trace']).toBe('kept');
    for (const name of [...Object.keys(sensitive), 'x-host-secret']) expect(second[name], name).toBeUndefined();
  });
});
