import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { testZone } from '../net/setup.js';

async function gateway(server: TestServer): Promise<Gateway & { dialled: string[] }> {
  const dial = loopbackOnlyDial();
  const gw = await createGateway(
    {
      policy: {
        allowTools: ['http.fetch'],
        rules: [
          { id: 'no-admin', tool: 'http.fetch', effect: 'deny', when: { path: { prefix: '/public/admin' } } },
          { id: 'public-read', tool: 'http.fetch', effect: 'allow', when: { host: { glob: 'api.test' }, scheme: { equals: 'http' }, port: { in: [server.port] }, method: { in: ['GET'] }, path: { prefix: '/public' } } },
        ],
      },
      connectors: { http: { allowedDomains: ['api.test', 'other.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'], allowedMethods: ['GET', 'POST'] } },
    },
    { resolver: testZone(), dial, logger: { warn: () => undefined } },
  );
  return Object.assign(gw, { dialled: dial.dialled });
}

describe('argument rules on HTTP', () => {
  it('allows the canonical URL the rule names and refuses other spellings of other resources before any socket', async () => {
    await using server = await startServer((req, res) => res.end(req.url));
    await using gw = await gateway(server);
    const ok = await gw.call<{ body: string }>('http.fetch', { url: `http://API.Test:${server.port}/%70ublic/./x` });
    expect(ok.body).toBe('/%70ublic/x');
    const before = server.requests.length;
    const dialled = gw.dialled.length;
    const denied = [
      `http://api.test:${server.port}/public/../private`,
      `http://api.test:${server.port}/public/%2e%2e/private`,
      `http://api.test:${server.port}/public/.%2E/admin`,
      `http://api.test:${server.port}/publicity`,
      `http://api.test:${server.port}/public/admin/x`,
      `http://api.test:${server.port}/public/%61dmin`,
      `http://other.test:${server.port}/public/x`,
    ];
    for (const url of denied) {
      await expect(gw.call('http.fetch', { url }), url).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    }
    await expect(gw.call('http.fetch', { url: `http://api.test:${server.port}/public/x`, method: 'POST', body: 'x' })).rejects.toMatchObject({ code: 'POLICY_DENIED' });
    expect(await gw.policy.explain('http.fetch', { url: `http://API.test:${server.port}/public/%61dmin` })).toMatchObject({
      outcome: 'deny',
      rule: 'no-admin',
      facts: { host: 'api.test', path: '/public/admin', port: server.port, method: 'GET' },
    });
    expect(server.requests.length).toBe(before);
    expect(gw.dialled.length).toBe(dialled);
  });

  it('no case, trailing dot, percent-encoding or dot-segment spelling reaches /public/admin', async () => {
    await using server = await startServer((req, res) => res.end(req.url));
    await using gw = await gateway(server);
    const host = fc.constantFrom('api.test', 'API.TEST', 'Api.Test.', 'api.test..', '%61pi.test');
    const segment = fc.constantFrom('public', '%70ublic', 'pub%6cic', './public', 'x/../public', 'x/%2e%2e/public', 'x/.%2E/public');
    const admin = fc.constantFrom('admin', '%61dmin', 'ADMIN'.toLowerCase(), 'adm%69n', './admin', 'x/../admin');
    await fc.assert(
      fc.asyncProperty(host, segment, admin, async (h, s, a) => {
        const before = server.requests.length;
        const url = `http://${h}:${server.port}/${s}/${a}/secret`;
        const outcome = await gw.call('http.fetch', { url }).then(
          () => 'sent',
          (e: { code: string }) => e.code,
        );
        expect(outcome).not.toBe('sent');
        expect(server.requests.length).toBe(before);
      }),
      { numRuns: 80 },
    );
  });

  it('decides every redirect hop with the rules: a redirect out of the prefix is refused before it is sent', async () => {
    await using server = await startServer((req, res) => {
      if (req.url === '/public/go') res.writeHead(302, { location: '/public/ADMIN/../admin/keys' }).end();
      else res.end('reached');
    });
    await using gw = await gateway(server);
    await expect(gw.call('http.fetch', { url: `http://api.test:${server.port}/public/go` })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'no-admin' } });
    expect(server.requests.map((r) => r.url)).toEqual(['/public/go']);
  });
});
