import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGateway, defineTool } from '../src/index.js';
import { keyFile } from '../src/store/keys.js';
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

  it('fails closed on a truncated log: --head SEQ:HASH in either spelling exits 1; a misspelled flag or malformed head exits 2, never "ok"', async () => {
    await using dir = await tempDir();
    const file = dir.join('audit.jsonl');
    const gw = await createGateway({ policy: { allowTools: ['demo.*'] }, audit: { file } });
    gw.register(defineTool({ name: 'demo.echo', description: 'x', inputSchema: z.object({ n: z.number() }), execute: ({ n }) => n }));
    for (let n = 0; n < 6; n++) await gw.call('demo.echo', { n });
    const head = gw.audit.head();
    await gw.close();
    const anchor = `${head?.seq}:${head?.hash}`;
    expect(head?.seq).toBe(6);
    expect((await cli('audit', 'verify', file, `--head=${anchor}`)).code).toBe(0);
    expect((await cli('audit', 'verify', file, `--head=${anchor.toUpperCase()}`)).code).toBe(0);

    const lines = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, `${lines.slice(0, 5).join('\n')}\n`); // the sixth record removed
    const heads = [[`--head=${anchor}`], ['--head', anchor], [`--head=6:${'0'.repeat(64)}`]];
    (await Promise.all(heads.map((args) => cli('audit', 'verify', file, ...args)))).forEach((truncated, i) => {
      expect(truncated.code, heads[i]?.join(' ')).toBe(1);
      expect(truncated.stdout).toMatch(/TAMPERED: .*tail removed/);
    });
    const misuses = [
      ['--hed', anchor],
      ['--Head', anchor],
      ['--head'],
      ['--head='],
      [`--head=6:${'0'.repeat(63)}`],
      [`--head=6:${'g'.repeat(64)}`],
      [`--head=0:${'0'.repeat(64)}`],
      [`--head=-6:${'0'.repeat(64)}`],
      [`--head=99999999999999999:${'0'.repeat(64)}`],
      [`--head=6:${'0'.repeat(64)}\u2028`],
      ['extra-argument'],
      [`--head=${anchor}`, `--head=5:${'0'.repeat(64)}`],
      ['--key'],
    ];
    const results = await Promise.all(misuses.map((args) => cli('audit', 'verify', file, ...args)));
    results.forEach((result, i) => {
      expect(result.code, misuses[i]?.join(' ')).toBe(2);
      expect(result.stdout).not.toMatch(/ok/);
      expect(result.stderr).toMatch(/usage: portcullis audit verify/);
    });
  }, 120_000);

  it('verifies a keyed, signed log with --key and --public-key, and fails a forged head signature', async () => {
    await using dir = await tempDir();
    const file = dir.join('audit.jsonl');
    const keyPath = dir.join('audit.key');
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    await writeFile(dir.join('public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    await writeFile(dir.join('other.pem'), generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const gw = await createGateway({ policy: { allowTools: ['demo.*'] }, audit: { file, key: keyFile(keyPath), signingKey: privateKey } });
    gw.register(defineTool({ name: 'demo.echo', description: 'x', inputSchema: z.object({ n: z.number() }), execute: ({ n }) => n }));
    for (let n = 0; n < 3; n++) await gw.call('demo.echo', { n });
    await gw.close();

    const ok = await cli('audit', 'verify', file, '--key', keyPath, '--public-key', dir.join('public.pem'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/ok: 3 records, chain intact \(keyed, signed heads verified\)/);
    expect((await cli('audit', 'verify', file)).code).toBe(1); // keyed: the plain SHA-256 check fails
    expect((await cli('audit', 'verify', file, '--key', keyPath, '--public-key', dir.join('other.pem'))).code).toBe(1);

    const text = await readFile(file, 'utf8');
    const sig = /"head_sig":"([^"]+)"/.exec(text)?.[1] ?? '';
    const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    await writeFile(file, text.replace(sig, flipped));
    const forged = await cli('audit', 'verify', file, '--key', keyPath, '--public-key', dir.join('public.pem'));
    expect(forged.code).toBe(1);
    expect(forged.stdout).toMatch(/head_sig does not verify/);
  }, 120_000);
});

describe('portcullis --help, --version, serve and check', () => {
  it('prints help and the version with exit 0; an unknown command or flag exits 2 with the usage', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as { version: string };
    const [help, version, serveHelp, checkHelp, unknown, none, badFlag, badPort, badTransport, repeated, stray] = await Promise.all([
      cli('--help'),
      cli('--version'),
      cli('serve', '--help'),
      cli('check', '--help'),
      cli('srve'),
      cli(),
      cli('serve', '--prot', '3000'),
      cli('serve', '--port', '70000'),
      cli('serve', '--transport', 'websocket'),
      cli('serve', '--port', '1', '--port', '2'),
      cli('serve', 'extra'),
    ]);
    expect(help).toMatchObject({ code: 0 });
    expect(help.stdout).toMatch(/usage: portcullis <command>/);
    expect(help.stdout).toMatch(/serve .*check .*audit verify/s);
    expect(version).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    expect(serveHelp.code).toBe(0);
    expect(serveHelp.stdout).toMatch(/usage: portcullis serve/);
    expect(checkHelp.code).toBe(0);
    expect(checkHelp.stdout).toMatch(/usage: portcullis check --config FILE/);
    for (const result of [unknown, none, badFlag, badPort, badTransport, repeated, stray]) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toMatch(/usage: portcullis/);
    }
    expect(badPort.stderr).toMatch(/--port is a number from 0 to 65535/);
    expect(repeated.stderr).toMatch(/--port given more than once/);
  }, 120_000);

  it('check prints what a config allows, spelling out invisible characters, and exits 2 naming the issues of a bad config', async () => {
    await using dir = await tempDir();
    const good = dir.join('good.yaml');
    await writeFile(
      good,
      `policy:
  allow_tools: ["fs.*", "http.fetch"]
  deny_tools: [fs.stat]
audit:
  file: ${dir.join('audit.jsonl')}
connectors:
  filesystem:
    allowed_paths: [${dir.path}]
    denied_paths: ["${dir.path}/se\\u001bcret\\u202e"]
  http_fetch:
    allowed_domains: [api.example.com]
server:
  transport: http
  port: 8080
`,
    );
    const ok = await cli('check', '--config', good);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/fs\.readFile +ALLOWED \(allowTools:fs\.\*\)/);
    expect(ok.stdout).toMatch(/fs\.stat +refused \(denyTools:fs\.stat\)/);
    expect(ok.stdout).toMatch(/http\.fetch +ALLOWED/);
    expect(ok.stdout).toMatch(/db\.query, db\.schema +not registered/);
    expect(ok.stdout).toMatch(/domains +api\.example\.com/);
    expect(ok.stdout).toMatch(/auto-pay up to +1000 per payment/);
    expect(ok.stdout).toMatch(/transport +http on 127\.0\.0\.1:8080/);
    expect(ok.stdout).toContain('se\\u001bcret\\u202e');
    expect(ok.stdout).not.toContain('\u001b');
    expect(ok.stdout).not.toContain('\u202e');
    // Nothing was started: no audit file was created.
    await expect(readFile(dir.join('audit.jsonl'))).rejects.toThrow(/ENOENT/);

    const bad = dir.join('bad.yaml');
    await writeFile(bad, 'policy:\n  alow_tools: ["fs.*"]\n  global_timeout_ms: -1\n');
    const refused = await cli('check', '--config', bad);
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/CONFIG_INVALID/);
    expect(refused.stderr).toMatch(/alowTools is not a known option \(did you mean "allowTools"\?\)/);
    expect(refused.stderr).toMatch(/globalTimeoutMs/);

    // A config without rules says so.
    expect(ok.stdout).toMatch(/argument rules \(policy\.rules.*\n {2}\(none/);

    expect((await cli('check')).code).toBe(2);
    expect((await cli('check', '--config', dir.join('missing.yaml'))).code).toBe(2);
    const serveBad = await cli('serve', '--config', bad);
    expect(serveBad.code).toBe(2);
    expect(serveBad.stderr).toMatch(/CONFIG_INVALID/);
  }, 120_000);

  it('check prints the argument rules in order (id, effect, tool, actors, each condition), text from the config spelled out', async () => {
    await using dir = await tempDir();
    const file = dir.join('rules.yaml');
    await writeFile(
      file,
      `policy:
  allow_tools: ["fs.*"]
  rules:
    - id: no-keys
      tool: fs.readFile
      effect: deny
      when:
        extension: { any_in: [".pem", ".key"] }
        path: { not_under: ["${dir.path}/data"], glob: "*.txt\\u202e" }
    - id: ops-only
      tool: fs.listDir
      actors: [ops, "ev\\u202eil"]
      effect: approve
      approval_timeout_ms: 5000
      description: "ask first\\u001b[2J"
    - id: read-rest
      tool: fs.readFile
      effect: allow
`,
    );
    const result = await cli('check', '--config', file);
    expect(result.code, result.stderr).toBe(0);
    const section = result.stdout.slice(result.stdout.indexOf('argument rules'), result.stdout.indexOf('built-in tools'));
    expect(section.split('\n').slice(1).filter((line) => line !== '')).toEqual([
      '  no-keys                DENY fs.readFile for every caller',
      '      when extension anyIn [".pem",".key"]',
      // Operators in the schema's order.
      `      when path glob "*.txt\\u202e" and notUnder ["${dir.path}/data"]`,
      '  ops-only               APPROVE fs.listDir for actors ops, ev\\u202eil',
      '      when (always: no conditions)',
      '      approval within 5000 ms',
      '      description "ask first\\u001b[2J"',
      '  read-rest              ALLOW fs.readFile for every caller',
      '      when (always: no conditions)',
    ]);
    expect(result.stdout).not.toContain('\u001b');
    expect(result.stdout).not.toContain('\u202e');
  }, 60_000);
});
