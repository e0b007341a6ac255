import { execFile } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it } from 'vitest';
import { readAudit } from './helpers/audit.js';
import { tempDir } from './helpers/temp-dir.js';

const run = promisify(execFile);

describe('examples', () => {
  it("import the package by name ('portcullis', 'portcullis/pay', ...) as a user's project would; only the offline demo servers come from ../test", async () => {
    const files = (await readdir('examples')).filter((file) => file.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(5);
    const relative: string[] = [];
    for (const file of files) {
      const source = await readFile(`examples/${file}`, 'utf8');
      expect(source, file).toMatch(/from 'portcullis(\/[a-z-]+)?'/);
      for (const [, specifier] of source.matchAll(/from '(\.[^']+)'/g)) {
        if (!specifier?.startsWith('../test/helpers/')) relative.push(`${file}: ${specifier}`);
      }
    }
    // The ecash demo's local mint speaks through a guarded request function that is not public.
    expect(relative).toEqual(['ecash-script.ts: ../src/pay/wallets/cashu/mint-request.js']);
  });


  it('mcp-server.ts serves the file tools over stdio to a real MCP client', async () => {
    await using dir = await tempDir();
    await writeFile(dir.join('hello.txt'), 'from the data dir');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', 'examples/mcp-server.ts'],
      cwd: process.cwd(),
      env: { ...(process.env as Record<string, string>), DATA_DIR: dir.path, AUDIT_FILE: dir.join('audit.jsonl') },
      stderr: 'ignore',
    });
    const client = new Client({ name: 'example-test', version: '1.0.0' });
    await client.connect(transport);
    expect((await client.listTools()).tools.map((t) => t.name).sort()).toEqual(['fs.listDir', 'fs.readFile', 'fs.stat']);
    expect(await client.callTool({ name: 'fs.readFile', arguments: { path: 'hello.txt' } })).toMatchObject({ structuredContent: { content: 'from the data dir' } });
    expect(await client.callTool({ name: 'fs.readFile', arguments: { path: '../../etc/passwd' } })).toMatchObject({ isError: true });
    await client.close();
    await new Promise((resolve) => setTimeout(resolve, 200)); // the server flushes its audit log as it exits
    expect((await readAudit(dir.join('audit.jsonl'))).map((r) => r.decision)).toEqual(['allow', 'deny']);
  });

  it.each(['paid-api-script', 'ecash-script', 'ai-sdk-agent', 'langchain-agent'])('%s.ts runs offline', async (name) => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], { env: { ...process.env, NWC_URI_FILE: '', CASHU_MINT_URL: '' }, timeout: 30_000 });
    expect(stdout.length).toBeGreaterThan(0);
    expect(stdout).not.toMatch(/Error/);
  });

  it('quickstart.ts (npm run demo) shows the arguments, explains the reused credential, and keeps the audit log it names', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/quickstart.ts'], { timeout: 120_000 });
    expect(stdout).toMatch(/fs\.readFile +\{"path":"\.\.\/\.\.\/etc\/passwd"\}/);
    expect(stdout).toMatch(/no payment: the credential bought by the earlier call to this API was reused/);
    expect(stdout).toMatch(/Payments made: 1;/);
    const kept = /kept: (\S+audit\.jsonl)/.exec(stdout)?.[1] ?? '';
    const records = await readAudit(kept);
    expect(records.length).toBeGreaterThan(20);
    await rm(dirname(kept), { recursive: true, force: true });
  }, 180_000);
});
