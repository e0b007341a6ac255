import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { describe, expect, it } from 'vitest';
import { readAudit } from '../helpers/audit.js';
import { tempDir, type TempDir } from '../helpers/temp-dir.js';

const CLI = ['--import', 'tsx', 'src/cli.ts'];
/** The environment of a child: no variable of ours leaks in from the test runner's. */
const ENV = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };

/** A config in the seed's config.yaml layout: files under data/, one denied directory. */
async function seedConfig(dir: TempDir, extra = ''): Promise<string> {
  await writeFile(dir.join('hello.txt'), 'hello from the data dir');
  const file = dir.join('config.yaml');
  await writeFile(
    file,
    `policy:
  default_deny: true
  allow_tools: ["fs.*"]
  deny_tools: ["fs.stat"]
audit:
  file: ${dir.join('audit.jsonl')}
connectors:
  filesystem:
    allowed_paths: [${dir.path}]
${extra}`,
  );
  return file;
}

/** Waits until the process `pid` is gone. */
async function gone(pid: number | null): Promise<void> {
  const alive = (): boolean => {
    try {
      process.kill(pid ?? 0, 0);
      return true;
    } catch {
      return false;
    }
  };
  await expect.poll(alive, { timeout: 10_000 }).toBe(false);
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts `portcullis serve` over HTTP and waits for the URL it prints on stderr. */
async function startHttp(config: string, ...flags: string[]): Promise<{ child: ChildProcess; url: URL; stderr: () => string }> {
  const child = spawn(process.execPath, [...CLI, 'serve', '--config', config, '--transport', 'http', '--port', '0', ...flags], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const url = await new Promise<URL>((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /MCP endpoint (http:\/\/\S+\/mcp)/.exec(stderr);
      if (match) resolve(new URL(match[1] as string));
    });
    child.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  return { child, url, stderr: () => stderr };
}

/** A raw GET with the given Host header (the client's own fetch would set a valid one). */
function get(url: URL, path: string, host = url.host): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('portcullis serve over stdio', () => {
  it('lists and calls tools through the pipeline, refuses what the policy denies, and flushes the audit when the client goes', async () => {
    await using dir = await tempDir();
    const config = await seedConfig(dir);
    const transport = new StdioClientTransport({ command: process.execPath, args: [...CLI, 'serve', '--config', config], cwd: process.cwd(), env: ENV, stderr: 'pipe' });
    const client = new Client({ name: 'serve-test', version: '1.0.0' });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['fs.listDir', 'fs.readFile']);
    expect(await client.callTool({ name: 'fs.readFile', arguments: { path: 'hello.txt' } })).toMatchObject({ structuredContent: { content: 'hello from the data dir' } });
    const denied = await client.callTool({ name: 'fs.stat', arguments: { path: 'hello.txt' } });
    expect(denied).toMatchObject({ isError: true, structuredContent: { error: { code: 'POLICY_DENIED' } } });
    const escape = await client.callTool({ name: 'fs.readFile', arguments: { path: '../../etc/passwd' } });
    expect(escape).toMatchObject({ isError: true, structuredContent: { error: { code: 'PATH_NOT_ALLOWED' } } });
    expect(JSON.stringify(escape)).not.toMatch(/root:/);
    const pid = transport.pid;
    await client.close();
    // The server exits on its own once stdin closes (the SDK would SIGTERM it after 2 s).
    await gone(pid);
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.tool, r.decision, r.actor])).toEqual([
      ['fs.readFile', 'allow', 'mcp-stdio'],
      ['fs.stat', 'deny', 'mcp-stdio'],
      ['fs.readFile', 'deny', 'mcp-stdio'],
    ]);
  }, 60_000);

  it('shows dotted names as underscores with --tool-names underscore, and maps them back for tools/call', async () => {
    await using dir = await tempDir();
    const config = await seedConfig(dir);
    const transport = new StdioClientTransport({ command: process.execPath, args: [...CLI, 'serve', '--config', config, '--tool-names', 'underscore'], cwd: process.cwd(), env: ENV, stderr: 'pipe' });
    const client = new Client({ name: 'serve-test', version: '1.0.0' });
    await client.connect(transport);
    const names = (await client.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['fs_listDir', 'fs_readFile']);
    for (const name of names) expect(name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(await client.callTool({ name: 'fs_readFile', arguments: { path: 'hello.txt' } })).toMatchObject({ structuredContent: { content: 'hello from the data dir' } });
    expect(await client.callTool({ name: 'fs_stat', arguments: { path: 'hello.txt' } })).toMatchObject({ isError: true });
    const pid = transport.pid;
    await client.close();
    await gone(pid);
    const records = await readAudit(dir.join('audit.jsonl'));
    // The audit names the real tool; an unknown shown name is refused and recorded as given.
    expect(records.map((r) => [r.tool, r.decision])).toEqual([
      ['fs.readFile', 'allow'],
      ['fs_stat', 'deny'],
    ]);
  }, 60_000);
});

describe('server.toolNames', () => {
  it("shows underscores when the config file says tool_names: underscore; --tool-names dotted overrides it", async () => {
    await using dir = await tempDir();
    const config = await seedConfig(dir, 'server:\n  tool_names: underscore\n');
    const listed = async (...flags: string[]): Promise<string[]> => {
      const transport = new StdioClientTransport({ command: process.execPath, args: [...CLI, 'serve', '--config', config, ...flags], cwd: process.cwd(), env: ENV, stderr: 'pipe' });
      const client = new Client({ name: 'serve-test', version: '1.0.0' });
      await client.connect(transport);
      const names = (await client.listTools()).tools.map((t) => t.name).sort();
      if (names.includes('fs_readFile')) {
        expect(await client.callTool({ name: 'fs_readFile', arguments: { path: 'hello.txt' } })).toMatchObject({ structuredContent: { content: 'hello from the data dir' } });
      }
      const pid = transport.pid;
      await client.close();
      await gone(pid);
      return names;
    };
    expect(await listed()).toEqual(['fs_listDir', 'fs_readFile']);
    expect(await listed('--tool-names', 'dotted')).toEqual(['fs.listDir', 'fs.readFile']);
    expect((await readAudit(dir.join('audit.jsonl'))).map((r) => [r.tool, r.decision])).toEqual([['fs.readFile', 'allow']]);
  }, 60_000);

  it('refuses a value other than dotted or underscore with exit 2, naming the key', async () => {
    await using dir = await tempDir();
    const config = await seedConfig(dir, 'server:\n  tool_names: Underscore\n');
    const child = spawn(process.execPath, [...CLI, 'serve', '--config', config], { env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await exitOf(child)).toBe(2);
    expect(stderr).toMatch(/CONFIG_INVALID.*server\.toolNames/s);
  }, 60_000);
});

describe('portcullis serve over HTTP', () => {
  it('serves /mcp to the SDK client, answers /health and /ready without auth or detail, and flushes the audit on SIGTERM', async () => {
    await using dir = await tempDir();
    const config = await seedConfig(dir);
    const { child, url } = await startHttp(config);
    try {
      const health = await get(url, '/health', 'evil.example:80');
      expect(health).toMatchObject({ status: 200, body: '{"status":"ok"}' });
      expect(health.headers['x-content-type-options']).toBe('nosniff');
      expect(await get(url, '/ready', 'evil.example:80')).toMatchObject({ status: 200, body: '{"status":"ok"}' });
      // Everything else still needs an allowed Host.
      expect((await get(url, '/mcp', 'evil.example:80')).status).toBe(403);

      const client = new Client({ name: 'serve-test', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(url));
      expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['fs.listDir', 'fs.readFile']);
      expect(await client.callTool({ name: 'fs.readFile', arguments: { path: 'hello.txt' } })).toMatchObject({ structuredContent: { content: 'hello from the data dir' } });
      expect(await client.callTool({ name: 'db.query', arguments: { sql: 'select 1' } })).toMatchObject({ isError: true, structuredContent: { error: { code: 'TOOL_NOT_FOUND' } } });
      await client.close();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exitOf(child)).toBe(0);
    // Buffered audit (flushed every 100 ms): the last call's record is on disk because SIGTERM flushed it.
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.tool, r.decision, r.error_code])).toEqual([
      ['fs.readFile', 'allow', null],
      ['db.query', 'deny', 'TOOL_NOT_FOUND'],
    ]);
  }, 60_000);

  it('flushes a long flush interval on SIGINT too: the record of a call made just before is written', async () => {
    await using dir = await tempDir();
    // A flush interval of an hour: only the shutdown can write the record.
    const config = await seedConfig(dir);
    await writeFile(config, (await readFile(config, 'utf8')).replace('audit:\n', 'audit:\n  flush_interval_ms: 3600000\n'));
    const { child, url } = await startHttp(config);
    const client = new Client({ name: 'serve-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(url));
    await client.callTool({ name: 'fs.readFile', arguments: { path: 'hello.txt' } });
    await client.close();
    child.kill('SIGINT');
    expect(await exitOf(child)).toBe(0);
    expect((await readAudit(dir.join('audit.jsonl'))).map((r) => r.tool)).toEqual(['fs.readFile']);
  }, 60_000);

  it('exits 2 on a bad host or a config error, 1 when the port is taken', async () => {
    await using dir = await tempDir();
    const config = await seedConfig(dir);
    const { child, url } = await startHttp(config);
    try {
      const taken = spawn(process.execPath, [...CLI, 'serve', '--config', config, '--transport', 'http', '--port', url.port], { env: ENV, stdio: 'ignore' });
      expect(await exitOf(taken)).toBe(1);
      const badHost = spawn(process.execPath, [...CLI, 'serve', '--config', config, '--transport', 'http', '--host', 'example.com'], { env: ENV, stdio: 'ignore' });
      expect(await exitOf(badHost)).toBe(2);
    } finally {
      child.kill('SIGTERM');
      await exitOf(child);
    }
  }, 60_000);
});
