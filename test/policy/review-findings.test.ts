import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGateway, defineTool } from '../../src/index.js';
import type { ArgumentRuleInput } from '../../src/policy/rules/schema.js';
import { startServer } from '../helpers/http-server.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { testZone } from '../net/setup.js';

describe('argument rules, review findings', () => {
  it('a glob rule on an agent-chosen value answers (linear matching, no catastrophic backtracking) and the tool does not run', async () => {
    const ran: unknown[] = [];
    await using gw = await createGateway(
      { policy: { allowTools: ['acme.*'], rules: [{ id: 'tagged', tool: 'acme.tag', effect: 'allow', when: { name: { glob: '*a*a*a*a*a*a*b' } } }] } },
      { logger: { warn: () => undefined } },
    );
    gw.register(defineTool({ name: 'acme.tag', description: 'tag', inputSchema: z.strictObject({ name: z.string().max(10_000) }), execute: (args) => ran.push(args) }));
    // With the regular expression ^.*a.*a.*a.*a.*a.*a.*b$ this took hours (about n^6 steps).
    await expect(gw.call('acme.tag', { name: 'a'.repeat(5000) })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:acme.tag' } });
    await expect(gw.call('acme.tag', { name: `${'a'.repeat(5000)}b` })).resolves.toBe(1);
    expect(ran).toHaveLength(1);
  }, 10_000);
});

describe('approval of an HTTP call, review findings', () => {
  it('a redirect to another URL under the same approve rule is not covered by the approval of the first URL', async () => {
    await using server = await startServer((req, res) => {
      if (req.url === '/orders/1') res.writeHead(307, { location: '/orders/1/cancel' }).end();
      else res.end(`reached ${req.url}`);
    });
    const asked: string[] = [];
    const dial = loopbackOnlyDial();
    await using gw = await createGateway(
      {
        policy: { allowTools: ['http.fetch'], rules: [{ id: 'ask-orders', tool: 'http.fetch', effect: 'approve', when: { host: { equals: 'api.test' }, path: { prefix: '/orders' } } }] },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'], allowedMethods: ['GET', 'POST'] } },
      },
      {
        resolver: testZone(),
        dial,
        logger: { warn: () => undefined },
        approveCall: (request) => {
          asked.push(String(request.facts.url));
          return Promise.resolve(true);
        },
      },
    );
    // The person approved POST /orders/1; the server's 307 re-sends the POST to /orders/1/cancel.
    await expect(gw.call('http.fetch', { url: `http://api.test:${server.port}/orders/1`, method: 'POST', body: 'x' })).rejects.toMatchObject({
      code: 'APPROVAL_REQUIRED',
      data: { rule: 'ask-orders' },
    });
    expect(asked).toEqual([`http://api.test:${server.port}/orders/1`]);
    expect(server.requests.map((r) => r.url)).toEqual(['/orders/1']);
    // The very URL approved still runs; a mandate covers the rule, redirects included.
    await expect(gw.call('http.fetch', { url: `http://api.test:${server.port}/orders/2` })).resolves.toMatchObject({ body: 'reached /orders/2' });
    gw.policy.grantMandate({ actor: 'bot', rule: 'ask-orders', count: 1, expiresAtMs: Date.now() + 60_000 });
    await expect(gw.call('http.fetch', { url: `http://api.test:${server.port}/orders/1` }, { actor: 'bot' })).resolves.toMatchObject({ body: 'reached /orders/1/cancel' });
  });
});

describe('payment rules, review findings', () => {
  it('a pay.fetch call without maxAmountSats is decided on the invoice: an "approve from 100 sats" rule refuses it at the 402, nothing is paid', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning, { amountMsat: 200_000 });
    await using gw = await createGateway(
      {
        policy: {
          allowTools: ['pay.fetch'],
          rules: [
            { id: 'ask-big', tool: 'pay.fetch', effect: 'approve', when: { amountSats: { min: 100 } } },
            { id: 'api', tool: 'pay.fetch', effect: 'allow', when: { host: { equals: 'api.test' } } },
          ],
        },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
        payments: { maxAutoPaySats: 1000 },
      },
      { wallet: lightning.wallet(), resolver: testZone(), dial: loopbackOnlyDial(), logger: { warn: () => undefined } },
    );
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/a` })).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', data: { rule: 'ask-big' } });
    // The unpaid request went (the 'api' rule allows it); no credential was bought or sent.
    expect(server.requests.map((r) => r.headers.authorization)).toEqual([undefined]);
    expect(lightning.payments).toBe(0);
    // A call that caps itself below the rule's threshold is the small case the allow rule is for.
    await expect(gw.policy.explain('pay.fetch', { url: `http://api.test:${server.port}/paid/a`, maxAmountSats: 99 })).resolves.toMatchObject({ outcome: 'allow', rule: 'api' });
  });
});

describe('host-tool facts, review findings', () => {
  it('a dotted fact name the agent also sends as a literal key is no verdict, not the agent\'s choice of reading', async () => {
    const ran: unknown[] = [];
    await using gw = await createGateway(
      {
        policy: {
          allowTools: ['acme.*'],
          rules: [
            { id: 'not-admin', tool: 'acme.search', effect: 'deny', when: { 'filter.owner': { in: ['admin'] } } },
            { id: 'search', tool: 'acme.search', effect: 'allow' },
          ],
        },
      },
      { logger: { warn: () => undefined } },
    );
    // A loose schema (extra keys kept), as hosts write for pass-through search filters.
    gw.register(defineTool({ name: 'acme.search', description: 'search', inputSchema: z.looseObject({ filter: z.strictObject({ owner: z.string() }) }), execute: (args) => ran.push(args) }));
    await expect(gw.call('acme.search', { filter: { owner: 'admin' } })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'not-admin' } });
    await expect(gw.call('acme.search', { 'filter.owner': 'me', filter: { owner: 'admin' } })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'not-admin' } });
    await expect(gw.call('acme.search', { filter: { owner: 'me' } })).resolves.toBe(1);
    expect(ran).toEqual([{ filter: { owner: 'me' } }]);
  });
});

describe('policy changes, review findings', () => {
  it('rules replaced while a call is being canonicalised decide that call (a revocation is not missed)', async () => {
    const ran: unknown[] = [];
    let release: () => void = () => undefined;
    const looking = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const inCanonicalize = new Promise<void>((resolve) => (entered = resolve));
    await using gw = await createGateway(
      { policy: { allowTools: ['acme.*'], rules: [{ id: 'open', tool: 'acme.doc', effect: 'allow' }] } },
      { logger: { warn: () => undefined } },
    );
    gw.register(
      defineTool({
        name: 'acme.doc',
        description: 'doc',
        inputSchema: z.strictObject({ id: z.string() }),
        // A host canonicalisation that looks something up (asynchronously) before the rules decide.
        canonicalize: async (args: { id: string }) => {
          entered();
          await looking;
          return { facts: { id: args.id } };
        },
        execute: (args) => ran.push(args),
      }),
    );
    const pending = gw.call('acme.doc', { id: 'd1' });
    await inCanonicalize;
    gw.policy.setRules([{ id: 'closed', tool: 'acme.doc', effect: 'deny' }]);
    release();
    await expect(pending).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'closed' } });
    expect(ran).toEqual([]);
  });
});

describe('HTTP rule literals, review findings', () => {
  it('a host, method, scheme, origin or path literal not spelled as the facts are is CONFIG_INVALID (a deny rule with it never matched)', async () => {
    const cases: [NonNullable<ArgumentRuleInput['when']>, string][] = [
      [{ host: { anyIn: ['Evil.Test'] } }, '"evil.test"'],
      [{ host: { equals: 'bücher.test.' } }, '"xn--bcher-kva.test"'],
      [{ host: { glob: '*.EVIL.test' } }, 'lower case'],
      [{ method: { anyIn: ['delete'] } }, '"DELETE"'],
      [{ scheme: { equals: 'HTTP' } }, '"http"'],
      [{ origin: { equals: 'http://api.test:80' } }, '"http://api.test"'],
      [{ path: { prefix: '/café' } }, '"/caf%C3%A9"'],
      [{ path: { anyIn: ['/a/../admin'] } }, '"/admin"'],
    ];
    for (const [when, hint] of cases) {
      const created = createGateway({ policy: { allowTools: ['http.fetch'], rules: [{ id: 'no', tool: 'http.fetch', effect: 'deny', when }] } }, { logger: { warn: () => undefined } });
      await expect(created, JSON.stringify(when)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(hint) as string });
    }
    // A file's extension fact is lower case with its dot.
    for (const [extension, hint] of [['pem', '".pem"'], ['.KEY', '".key"']] as const) {
      const created = createGateway({ policy: { allowTools: ['fs.*'], rules: [{ id: 'no', tool: 'fs.readFile', effect: 'deny', when: { extension: { anyIn: [extension] } } }] } }, { logger: { warn: () => undefined } });
      await expect(created, extension).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(hint) as string });
    }
    // The canonical spellings are accepted, and the same literals on a host tool are its own business.
    await using gw = await createGateway(
      {
        policy: {
          allowTools: ['http.fetch'],
          rules: [
            { id: 'no', tool: 'pay.fetch', effect: 'deny', when: { host: { anyIn: ['evil.test', 'xn--bcher-kva.test', '[::1]', '127.0.0.1'] }, method: { in: ['DELETE'] }, path: { prefix: ['/caf%C3%A9', '/api/'] } } },
            { id: 'host-tool', tool: 'acme.x', effect: 'deny', when: { host: { equals: 'Evil.Test' } } },
          ],
        },
      },
      { logger: { warn: () => undefined } },
    );
    expect(gw.policy.rules()).toHaveLength(2);
  });
});

describe('explain, review findings', () => {
  it('a host canonicalize that throws gives explain a verdict (TOOL_FAILED, as gw.call), not a rejection carrying its message', async () => {
    const ran: unknown[] = [];
    await using gw = await createGateway({ policy: { allowTools: ['acme.*'], rules: [{ id: 'any', tool: 'acme.lookup', effect: 'allow' }] } }, { logger: { warn: () => undefined } });
    gw.register(
      defineTool({
        name: 'acme.lookup',
        description: 'lookup',
        inputSchema: z.strictObject({ key: z.string() }),
        canonicalize: (args: { key: string }) => {
          throw new TypeError(`no such key ${args.key}`);
        },
        execute: (args) => ran.push(args),
      }),
    );
    const explained = await gw.policy.explain('acme.lookup', { key: 'sk-SECRET' });
    expect(explained).toMatchObject({ outcome: 'deny', code: 'TOOL_FAILED', rule: 'canonicalize' });
    expect(JSON.stringify(explained)).not.toContain('sk-SECRET');
    await expect(gw.call('acme.lookup', { key: 'sk-SECRET' })).rejects.toMatchObject({ code: 'TOOL_FAILED' });
    expect(ran).toEqual([]);
  });
});
