// The quick-start demo (`npm run demo`): runs offline on embedded defaults and shows the
// pipeline at work: validate → default-deny policy → execute within limits → audit, and the
// filesystem, network, SQL and payment guards.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { z } from 'zod';
import { createGateway, defineTool, isGatewayError, verifyAuditLog } from 'portcullis';
import { startL402Server } from '../test/helpers/l402-server.js';
import { fakeLightning } from '../test/helpers/lightning.js';

const dir = await mkdtemp(join(tmpdir(), 'portcullis-demo-'));
const auditFile = join(dir, 'audit.jsonl');

// Files the agent may read, a denied subdirectory, and a symlink that points out of the root.
await mkdir(join(dir, 'data/secrets'), { recursive: true });
await writeFile(join(dir, 'data/notes.txt'), 'Meeting moved to Thursday.');
await writeFile(join(dir, 'data/secrets/api-key.txt'), 'sk-demo-not-for-agents');
await symlink('/etc/passwd', join(dir, 'data/passwd-link'));

// An in-process database with a table of orders.
const database = await PGlite.create();
await database.exec(`CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric);
  INSERT INTO orders VALUES (1, 'ada', 120.50), (2, 'grace', 80), (3, 'ada', 42);`);

// A stand-in for a public API, on loopback. The demo's DNS is a fixed table (no network).
const api = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"weather":"sunny"}'));
await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
const apiPort = (api.address() as AddressInfo).port;
const zone: Record<string, string> = {
  'api.demo.test': '127.0.0.1',
  'paid.demo.test': '127.0.0.1',
  'metadata.demo.test': '169.254.169.254',
  'intranet.demo.test': '10.1.2.3',
};

// Two paid APIs (HTTP 402, L402 with real macaroons and signed invoices) and a demo wallet
// on a simulated Lightning network: the one part of the demo that is not real.
const lightning = fakeLightning();
const cheapApi = await startL402Server(lightning, { amountMsat: 21_000 });
const priceyApi = await startL402Server(lightning, { amountMsat: 5_000_000 });

const gw = await createGateway(
  {
    policy: {
      defaultDeny: true,
      allowTools: ['demo.*', 'http.fetch', 'fs.*', 'db.*', 'pay.fetch'],
      denyTools: ['demo.shutdown'],
      perTool: { 'demo.slow': { timeoutMs: 200 } },
    },
    audit: { file: auditFile },
    // At most 100 sats per payment without a person's approval, 500 sats a minute.
    payments: { maxAutoPaySats: 100, maxSpendPerMinuteSats: 500 },
    connectors: {
      filesystem: { allowedPaths: [join(dir, 'data')], deniedPaths: [join(dir, 'data/secrets')] },
      // An in-process PostgreSQL (PGlite) seeded below; point connectionString at a real server instead.
      postgres: { embedded: true },
      http: {
        allowedDomains: ['*.demo.test'],
        allowedPorts: [apiPort, cheapApi.port, priceyApi.port],
        // Loopback is reachable only because it is listed; the other private answers are not.
        allowNetworks: ['127.0.0.1/32'],
      },
    },
  },
  {
    embeddedPostgres: database,
    wallet: lightning.wallet({ feeMsat: 1000 }),
    resolver: (host) => {
      const address = zone[host];
      return address === undefined ? Promise.reject(new Error('ENOTFOUND')) : Promise.resolve([{ address, family: 4 }]);
    },
  },
);

// Host tools go through exactly the same pipeline as the built-in connectors.
gw.register(
  defineTool({
    name: 'demo.add',
    description: 'Adds two integers.',
    inputSchema: z.strictObject({ a: z.number().int(), b: z.number().int() }),
    execute: ({ a, b }) => ({ sum: a + b }),
  }),
);
gw.register(
  defineTool({
    name: 'demo.slow',
    description: 'Waits for the given number of ms, honouring the abort signal.',
    inputSchema: z.strictObject({ ms: z.number().int().nonnegative() }),
    execute: ({ ms }, { signal }) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve({ waitedMs: ms }), ms);
        signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason as Error)), { once: true });
      }),
  }),
);
gw.register(defineTool({ name: 'demo.shutdown', description: 'Never allowed.', inputSchema: z.object({}), execute: () => 'bye' }));
gw.register(defineTool({ name: 'admin.reset', description: 'Not in allowTools.', inputSchema: z.object({}), execute: () => 'reset' }));

console.log('Tools this agent may see:', gw.listTools().map((t) => t.name).join(', '));

const shown = (value: unknown): string => {
  const text = JSON.stringify(value) ?? '';
  return text.length > 90 ? `${text.slice(0, 89)}…` : text;
};

/** One call: its arguments, then the outcome, in aligned columns. */
async function attempt(tool: string, args: unknown): Promise<void> {
  const paymentsBefore = lightning.payments;
  console.log(`  ${tool.padEnd(14)} ${shown(args)}`);
  try {
    const result = await gw.call(tool, args, { actor: 'demo-agent' });
    console.log(`  ${''.padEnd(14)} ${'ok'.padEnd(20)} ${shown(result)}`);
    if (tool === 'pay.fetch') {
      const paid = lightning.payments - paymentsBefore;
      console.log(`  ${''.padEnd(14)} ${''.padEnd(20)} ${paid > 0 ? `paid ${paid} invoice(s) for the credential, then retried` : 'no payment: the credential bought by the earlier call to this API was reused'}`);
    }
  } catch (error) {
    if (!isGatewayError(error)) throw error;
    console.log(`  ${''.padEnd(14)} ${error.code.padEnd(20)} ${error.message}`);
  }
}

console.log('\nCalls:');
await attempt('demo.add', { a: 2, b: 40 });
await attempt('demo.add', { a: 2, b: 'forty' }); // VALIDATION_FAILED
await attempt('demo.shutdown', {}); // POLICY_DENIED: deny wins
await attempt('admin.reset', {}); // POLICY_DENIED: default deny
await attempt('demo.nope', {}); // TOOL_NOT_FOUND
await attempt('demo.slow', { ms: 5000 }); // TIMEOUT after 200 ms, the timer really stopped
await attempt('fs.readFile', { path: 'notes.txt' });
await attempt('fs.listDir', { path: '.' }); // secrets/ is simply absent
await attempt('fs.readFile', { path: 'secrets/api-key.txt' }); // PATH_NOT_ALLOWED: denied path
await attempt('fs.readFile', { path: 'passwd-link' }); // PATH_NOT_ALLOWED: resolves outside the root
await attempt('fs.readFile', { path: '../../etc/passwd' }); // PATH_NOT_ALLOWED: ".."
await attempt('db.query', { sql: 'SELECT customer, sum(total) AS spent FROM orders GROUP BY customer ORDER BY 2 DESC' });
await attempt('db.query', { sql: "SELECT 1; DROP TABLE orders" }); // SQL_NOT_ALLOWED: one statement only
await attempt('db.query', { sql: 'WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone' }); // SQL_NOT_ALLOWED
await attempt('http.fetch', { url: `http://api.demo.test:${apiPort}/today` });
await attempt('http.fetch', { url: `http://metadata.demo.test:${apiPort}/latest/meta-data/` }); // SSRF_BLOCKED, no socket
await attempt('http.fetch', { url: `http://intranet.demo.test:${apiPort}/` }); // SSRF_BLOCKED
await attempt('http.fetch', { url: 'http://0x7f.1/admin' }); // DOMAIN_NOT_ALLOWED: a bare IP must be listed
await attempt('http.fetch', { url: `http://api.demo.test:${apiPort}/`, headers: { authorization: 'Bearer stolen' } }); // VALIDATION_FAILED
await attempt('pay.fetch', { url: `http://paid.demo.test:${cheapApi.port}/v1/forecast` }); // pays 21 sats, then retries
await attempt('pay.fetch', { url: `http://paid.demo.test:${cheapApi.port}/v1/history` }); // reuses the credential: no payment
await attempt('pay.fetch', { url: `http://paid.demo.test:${priceyApi.port}/v1/premium` }); // APPROVAL_REQUIRED: 5000 sats
console.log(`\nPayments made: ${lightning.payments}; spent in the last minute: ${(await gw.spend.spentLastMinuteMsat()) / 1000} sats (fees included)`);

await gw.close();
await database.close();
api.close();
await cheapApi.close();
await priceyApi.close();

const verdict = await verifyAuditLog(auditFile);
console.log(`\nAudit log ${auditFile}:`);
console.log(`  ${verdict.ok ? `intact hash chain of ${verdict.records} records` : `TAMPERED at line ${verdict.line}: ${verdict.reason}`}`);
// The audit log is kept for you to read or verify (`npx portcullis audit verify <file>`); the demo's data files are removed.
await rm(join(dir, 'data'), { recursive: true, force: true });
console.log(`  kept: ${auditFile}`);
