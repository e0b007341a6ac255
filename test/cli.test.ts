import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGateway, defineTool } from '../src/index.js';
import { tempDir } from './helpers/temp-dir.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', 'src/cli.ts'];

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd: process.cwd() });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('portcullis audit verify', () => {
  it('exits 0 on an intact log and 1 on a tampered one', async () => {
    await using dir = await tempDir();
    const file = dir.join('audit.jsonl');
    const gw = await createGateway({ policy: { allowTools: ['demo.*'] }, audit: { file } });
    gw.register(defineTool({ name: 'demo.echo', description: 'x', inputSchema: z.object({ n: z.number() }), execute: ({ n }) => n }));
    for (let n = 0; n < 3; n++) await gw.call('demo.echo', { n });
    await gw.close();

    const ok = await cli('audit', 'verify', file);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok: 3 records/);

    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[1] = lines[1]!.replace('"result_bytes":1,', '"result_bytes":9,');
    await writeFile(file, lines.join('\n'));
    const bad = await cli('audit', 'verify', file);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/TAMPERED: line 2/);
  });

  it('exits 2 with usage on bad arguments or a missing file', async () => {
    expect((await cli('audit')).code).toBe(2);
    const missing = await cli('audit', 'verify', '/nonexistent/audit.jsonl');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/ENOENT/);
  });
});
