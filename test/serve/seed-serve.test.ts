// `portcullis serve` started as a child process from what the seed projects' users already have:
// the MCP gateway's config.yaml (the fixture, verbatim) and 402-mcp's environment variables, with
// a real NWC wallet (NIP-47 over the local relay) paying from the fake Lightning network.
import { spawn } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { readAudit } from '../helpers/audit.js';
import { fakeLightning } from '../helpers/lightning.js';
import { startRelay } from '../helpers/nostr-relay.js';
import { startNwcService } from '../helpers/nwc-service.js';
import { tempDir } from '../helpers/temp-dir.js';

/** The CLI by absolute paths, so the child may run in any directory (the fixture's audit file is relative). */
const CLI = ['--import', pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href, resolve('src/cli.ts')];
const FIXTURE = resolve('test/fixtures/seed-gateway-config.yaml');
const BASE_ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

/** Starts serve over stdio and connects the MCP SDK client; stderr is collected. */
async function connect(args: string[], env: Record<string, string>, cwd = process.cwd()) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [...CLI, 'serve', ...args], cwd, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'seed-serve-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    client,
    stderr: () => stderr,
    /** Closes stdin and waits for the server to exit on its own (audit flushed, wallets closed). */
    async stop() {
      const pid = transport.pid;
      await client.close();
      await expect
        .poll(() => {
          try {
            process.kill(pid ?? 0, 0);
            return true;
          } catch {
            return false;
          }
        }, { timeout: 10_000 })
        .toBe(false);
    },
  };
}

/** Runs a command that exits on its own (a refused start): exit code, stdout, stderr. */
function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [...CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
}

const names = async (client: Client): Promise<string[]> => (await client.listTools()).tools.map((tool) => tool.name).sort();

describe("portcullis serve from the seed gateway's own config.yaml", () => {
  it('serves the tools its allow_tools name (web.fetch read as http.fetch), refuses a denied path through the pipeline, and audits it to its log_file', async () => {
    await using dir = await tempDir();
    // The fixture verbatim, but for its filesystem root: /app/data moved under a temp dir (it must exist).
    const { config, data } = await seedCopy(dir);
    const server = await connect(['--config', config], BASE_ENV, dir.path);
    try {
      expect(await names(server.client)).toEqual(['db.query', 'fs.readFile', 'http.fetch']);
      expect(await server.client.callTool({ name: 'fs.readFile', arguments: { path: 'hello.txt' } })).toMatchObject({ structuredContent: { content: 'hello from /app/data' } });
      const denied = await server.client.callTool({ name: 'fs.readFile', arguments: { path: `${data}/secrets/key.pem` } });
      expect(denied).toMatchObject({ isError: true, structuredContent: { error: { code: 'PATH_NOT_ALLOWED' } } });
      const notAllowed = await server.client.callTool({ name: 'fs.listDir', arguments: { path: data } });
      expect(notAllowed).toMatchObject({ isError: true, structuredContent: { error: { code: 'POLICY_DENIED' } } });
    } finally {
      await server.stop();
    }
    // Renamed keys are warned about on stderr (stdout is the MCP channel: the client would have broken).
    expect(server.stderr()).toContain('"web.fetch" is now "http.fetch"');
    expect(server.stderr()).toContain('connectors.http_fetch is now connectors.http');
    expect(JSON.stringify(server.stderr())).not.toContain('PRIVATE KEY');
    // audit.log_file: ./audit.jsonl, relative to where serve runs.
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.tool, r.decision, r.actor])).toEqual([
      ['fs.readFile', 'allow', 'mcp-stdio'],
      ['fs.readFile', 'deny', 'mcp-stdio'],
      ['fs.listDir', 'deny', 'mcp-stdio'],
    ]);
  }, 60_000);
});

/** The fixture with its /app/data root moved under `dir` (the root must exist); the rest verbatim. */
async function seedCopy(dir: { join(...parts: string[]): string }): Promise<{ config: string; data: string }> {
  const data = dir.join('app', 'data');
  await mkdir(dir.join('app', 'data', 'secrets'), { recursive: true });
  await writeFile(dir.join('app', 'data', 'hello.txt'), 'hello from /app/data');
  await writeFile(dir.join('app', 'data', 'secrets', 'key.pem'), 'PRIVATE KEY');
  const seed = await readFile(FIXTURE, 'utf8');
  expect(seed.match(/\/app\/data/g)).toHaveLength(2);
  await writeFile(dir.join('config.yaml'), seed.replaceAll('/app/data', data));
  return { config: dir.join('config.yaml'), data };
}

describe("portcullis serve from the seed gateway's config.yaml over HTTP", () => {
  it('serves the same tools on /mcp (port from --port over http_port), answers /health, and flushes the audit on SIGTERM', async () => {
    await using dir = await tempDir();
    const { config } = await seedCopy(dir);
    const child = spawn(process.execPath, [...CLI, 'serve', '--config', config, '--transport', 'http', '--port', '0'], { cwd: dir.path, env: BASE_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      const url = await new Promise<URL>((found, fail) => {
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /MCP endpoint (http:\/\/\S+\/mcp)/.exec(stderr);
          if (match) found(new URL(match[1] as string));
        });
        void exited.then((code) => fail(new Error(`serve exited with ${code}: ${stderr}`)));
      });
      expect(url.hostname).toBe('127.0.0.1');
      expect(await (await fetch(new URL('/health', url))).json()).toEqual({ status: 'ok' });
      const client = new Client({ name: 'seed-serve-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(url));
      expect(await names(client)).toEqual(['db.query', 'fs.readFile', 'http.fetch']);
      expect(await client.callTool({ name: 'fs.readFile', arguments: { path: 'hello.txt' } })).toMatchObject({ structuredContent: { content: 'hello from /app/data' } });
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect((await readAudit(dir.join('audit.jsonl'))).map((r) => [r.tool, r.decision, r.actor])).toEqual([['fs.readFile', 'allow', 'mcp-http']]);
  }, 60_000);
});

describe("portcullis serve from 402-mcp's environment variables", () => {
  it('builds the NWC wallet from NWC_URI_FILE: pay.fetch and pay.invoice listed, an invoice paid over NIP-47 within MAX_AUTO_PAY_SATS, one above refused unpaid, both audited without secrets', async () => {
    await using dir = await tempDir();
    await using relay = await startRelay();
    const lightning = fakeLightning();
    const service = await startNwcService(relay.url, lightning);
    try {
      await writeFile(dir.join('nwc-uri'), service.uri, { mode: 0o600 });
      // The policy (default deny) and the hosts pay.fetch may reach are what no 402-mcp variable sets: a small file.
      await writeFile(dir.join('policy.yaml'), 'policy:\n  allow_tools: [pay.fetch, pay.invoice]\nconnectors:\n  http_fetch:\n    allowed_domains: [api.example.com]\n');
      const env = { ...BASE_ENV, NWC_URI_FILE: dir.join('nwc-uri'), MAX_AUTO_PAY_SATS: '50', MAX_SPEND_PER_MINUTE_SATS: '500', AUDIT_FILE: dir.join('audit.jsonl'), TRANSPORT: 'stdio' };
      const server = await connect(['--config', dir.join('policy.yaml')], env);
      const cheap = lightning.createInvoice({ amountMsat: 21_000 });
      const dear = lightning.createInvoice({ amountMsat: 51_000 });
      try {
        expect(await names(server.client)).toEqual(['pay.fetch', 'pay.invoice']);
        expect(await server.client.callTool({ name: 'pay.invoice', arguments: { invoice: cheap.bolt11 } })).toMatchObject({ structuredContent: { paid: true, amountSats: 21 } });
        expect(lightning.isPaid(cheap.paymentHash)).toBe(true);
        const refused = await server.client.callTool({ name: 'pay.invoice', arguments: { invoice: dear.bolt11 } });
        expect(refused).toMatchObject({ isError: true, structuredContent: { error: { code: 'APPROVAL_REQUIRED' } } });
        expect(lightning.isPaid(dear.paymentHash)).toBe(false);
        expect(lightning.payments).toBe(1);
        expect(service.requests).toBe(1);
      } finally {
        await server.stop();
      }
      expect(server.stderr()).toContain('NWC wallet from NWC_URI_FILE');
      const records = await readAudit(dir.join('audit.jsonl'));
      const calls = records.filter((r) => r.tool === 'pay.invoice').map((r) => [r.decision, r.actor, r.error_code]);
      expect(calls).toEqual([
        ['allow', 'mcp-stdio', null],
        ['deny', 'mcp-stdio', 'APPROVAL_REQUIRED'],
      ]);
      // The payment is a record of its own, with its hash and amount (never the preimage).
      expect(JSON.stringify(records.filter((r) => r.tool !== 'pay.invoice'))).toContain(cheap.paymentHash);
      const text = JSON.stringify(records) + server.stderr();
      expect(text).not.toContain(cheap.preimage);
      expect(text).not.toContain(service.clientSecret);
    } finally {
      service.close();
    }
  }, 90_000);

  it('with the variables alone (NWC_URI in the environment, no config file): the wallet is built, nothing is allowed, and serve says so on stderr', async () => {
    await using relay = await startRelay();
    const service = await startNwcService(relay.url, fakeLightning());
    try {
      const server = await connect([], { ...BASE_ENV, NWC_URI: service.uri, MAX_AUTO_PAY_SATS: '10' });
      try {
        expect(await names(server.client)).toEqual([]);
        expect(await server.client.callTool({ name: 'pay.fetch', arguments: { url: 'https://example.com/' } })).toMatchObject({ isError: true, structuredContent: { error: { code: 'POLICY_DENIED' } } });
      } finally {
        await server.stop();
      }
      expect(server.stderr()).toContain('NWC wallet from NWC_URI (now removed from the environment)');
      expect(server.stderr()).toContain('no tool is allowed');
      expect(server.stderr()).not.toContain(service.clientSecret);
      expect(service.requests).toBe(0);
    } finally {
      service.close();
    }
  }, 60_000);

  it('refuses to start (exit 2, CONFIG_INVALID on stderr, nothing on stdout) for a misspelt variable, naming the nearest known one', async () => {
    for (const [name, nearest] of [
      ['MAX_AUTO_PAY_SAT', 'MAX_AUTO_PAY_SATS'],
      ['NWC_URI_FLE', 'NWC_URI_FILE'],
      ['CREDENTIAL_STOR', 'CREDENTIAL_STORE'],
    ] as const) {
      const result = await run(['serve'], { ...BASE_ENV, [name]: '5' });
      expect(result, name).toMatchObject({ code: 2, stdout: '' });
      expect(result.stderr).toContain('CONFIG_INVALID');
      expect(result.stderr).toContain(`${name} is not a variable Portcullis knows (did you mean ${nearest}?)`);
    }
  }, 90_000);

  it('refuses an NWC_URI_FILE readable by others and CASHU_TOKENS without CASHU_MINTS or outside the home directory, reading and moving nothing', async () => {
    await using dir = await tempDir();
    await writeFile(dir.join('nwc-uri'), 'nostr+walletconnect://' + 'a'.repeat(64) + '?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=' + 'b'.repeat(64), { mode: 0o644 });
    const open = await run(['serve'], { ...BASE_ENV, NWC_URI_FILE: dir.join('nwc-uri') });
    expect(open).toMatchObject({ code: 2, stdout: '' });
    expect(open.stderr).toContain('chmod 600');
    expect(open.stderr).not.toContain('b'.repeat(64));

    await mkdir(dir.join('home'));
    await writeFile(dir.join('tokens.txt'), 'cashuBnot-a-real-token\n');
    const env = { ...BASE_ENV, HOME: dir.join('home'), CASHU_TOKENS: dir.join('tokens.txt'), CREDENTIAL_STORE: dir.join('home', 'store') };
    const noMints = await run(['serve'], env);
    expect(noMints).toMatchObject({ code: 2, stdout: '' });
    expect(noMints.stderr).toContain('CASHU_MINTS must list the mints');
    // The mint is never contacted: the path is refused before the file is read.
    const outside = await run(['serve'], { ...env, CASHU_MINTS: 'https://mint.example.com' });
    expect(outside).toMatchObject({ code: 2, stdout: '' });
    expect(outside.stderr).toContain('CASHU_TOKENS must be a file inside the home directory; it was not read');
    expect(await readFile(dir.join('tokens.txt'), 'utf8')).toBe('cashuBnot-a-real-token\n');
    await expect(stat(dir.join('tokens.txt.bak'))).rejects.toMatchObject({ code: 'ENOENT' });
  }, 90_000);
});
