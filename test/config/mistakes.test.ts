import { mkdir } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig, type GatewayConfig } from '../../src/config.js';
import { createGateway } from '../../src/gateway.js';
import { defineTool } from '../../src/tools.js';
import { tempDir } from '../helpers/temp-dir.js';

function issuesOf(config: unknown): { path: string; message: string }[] {
  try {
    parseConfig(config);
  } catch (error) {
    expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
    return (error as { data: { issues: { path: string; message: string }[] } }).data.issues;
  }
  throw new Error('expected CONFIG_INVALID');
}

async function warningsOf(config: GatewayConfig, after?: (gw: Awaited<ReturnType<typeof createGateway>>) => void): Promise<string[]> {
  const warnings: string[] = [];
  await using gw = await createGateway({ audit: { sinks: [{ name: 'null', write: () => Promise.resolve() }] }, ...config }, { logger: { warn: (m) => warnings.push(m) } });
  after?.(gw);
  return warnings;
}

describe('config mistakes that are errors', () => {
  it('refuses an allowedDomains entry with a scheme, naming the host to write', () => {
    expect(issuesOf({ connectors: { http: { allowedDomains: ['api.github.com', 'https://API.example.com:8443/v1'] } } })).toEqual([
      { path: 'connectors.http.allowedDomains.1', message: '"https://API.example.com:8443/v1" has a scheme; list host names only (write "api.example.com")' },
    ]);
  });

  it('refuses a domain entry with a path, a query or a fragment, in allowed and denied lists', () => {
    const issues = issuesOf({ connectors: { http: { allowedDomains: ['api.github.com/repos', 'a.example?x', 'b.example#f'], deniedDomains: ['evil.example/'] } } });
    expect(issues.map((issue) => issue.path)).toEqual(['connectors.http.allowedDomains.0', 'connectors.http.allowedDomains.1', 'connectors.http.allowedDomains.2', 'connectors.http.deniedDomains.0']);
    expect(issues[0]?.message).toMatch(/has a path.*write "api\.github\.com"/);
  });

  it('keeps accepting host names, wildcards and IP literals', () => {
    expect(() => parseConfig({ connectors: { http: { allowedDomains: ['api.github.com', '*.example.com', '*', '127.0.0.1', 'xn--bcher-kva.example'] } } })).not.toThrow();
  });

  it('refuses embedded together with a connectionString', () => {
    expect(issuesOf({ connectors: { postgres: { embedded: true, connectionString: 'postgres://a@127.0.0.1/db' } } })).toEqual([
      { path: 'connectors.postgres.embedded', message: expect.stringMatching(/exclude each other/) as unknown },
    ]);
  });

  it('refuses pay.fetch or pay.preview allowed by name without an HTTP connector, for actors too', () => {
    const issues = issuesOf({ policy: { allowTools: ['pay.fetch'], actors: { bot: { allowTools: ['pay.preview', 'pay.balance'] } } } });
    expect(issues.map((issue) => issue.path)).toEqual(['policy.allowTools.0', 'policy.actors.bot.allowTools.0']);
    expect(issues[0]?.message).toMatch(/connectors\.http is not configured/);
    // pay.balance and pay.credentials need no HTTP; with connectors.http pay.fetch is fine.
    expect(() => parseConfig({ policy: { allowTools: ['pay.balance', 'pay.credentials'] } })).not.toThrow();
    expect(() => parseConfig({ policy: { allowTools: ['pay.fetch'] }, connectors: { http: { allowedDomains: ['a.example'] } } })).not.toThrow();
  });

  it('reports every problem at once, each as { path, message }, the message keeping the human text', () => {
    let error: { message: string; data: { issues: unknown[] } } | undefined;
    try {
      parseConfig({ policy: { allowTool: [], globalTimeoutMs: -1 } });
    } catch (e) {
      error = e as never;
    }
    expect(error?.data.issues).toHaveLength(2);
    expect(error?.data.issues).toEqual(
      expect.arrayContaining([
        { path: 'policy.allowTool', message: 'is not a known option (did you mean "allowTools"?)' },
        { path: 'policy.globalTimeoutMs', message: expect.stringMatching(/expected number to be >0/) as unknown },
      ]),
    );
    expect(error?.message).toMatch(/^Invalid Portcullis configuration: .*config\.policy\.allowTool is not a known option \(did you mean "allowTools"\?\)/);
    expect(error?.message).toMatch(/config\.policy\.globalTimeoutMs: Too small/);
  });
});

describe('config mistakes that are warnings (createGateway)', () => {
  it('warns about maxAutoPaySats above maxSpendPerMinuteSats', async () => {
    const warnings = await warningsOf({ payments: { maxAutoPaySats: 50_000, maxSpendPerMinuteSats: 10_000 } });
    expect(warnings.join('\n')).toMatch(/maxAutoPaySats \(50000\) is above payments\.maxSpendPerMinuteSats \(10000\)/);
    expect((await warningsOf({ payments: { maxAutoPaySats: 1000, maxSpendPerMinuteSats: 10_000 } })).join('\n')).not.toMatch(/maxAutoPaySats/);
  });

  it('warns about allowTools and perTool entries matching no tool, with the nearest tool or the new name', async () => {
    await using dir = await tempDir();
    await mkdir(dir.join('data'));
    const warnings = await warningsOf({
      policy: { allowTools: ['fs.readfile', 'web.fetch', 'fs.*'], perTool: { 'fs.stats': { timeoutMs: 5 } } },
      connectors: { filesystem: { allowedPaths: [dir.join('data')] } },
    });
    const text = warnings.join('\n');
    expect(text).toMatch(/policy\.allowTools\.0 "fs\.readfile" matches no tool \(did you mean "fs\.readFile"\?\)/);
    expect(text).toMatch(/policy\.allowTools\.1 "web\.fetch" matches no tool \("web\.fetch" is now "http\.fetch"\)/);
    expect(text).toMatch(/policy\.perTool\.fs\.stats "fs\.stats" matches no tool \(did you mean "fs\.stat"\?\)/);
    expect(text).not.toMatch(/"fs\.\*"/);
  });

  it('checks again on register(): a host tool one typo away from an unmatched entry is pointed out; a match is not', async () => {
    const tool = (name: string) => defineTool({ name, description: 'x', inputSchema: z.strictObject({}), execute: () => 'ok' });
    const warnings = await warningsOf({ policy: { allowTools: ['acme.serch', 'acme.list'] } }, (gw) => {
      gw.register(tool('acme.search'));
      gw.register(tool('acme.list'));
    });
    const text = warnings.join('\n');
    expect(text).toMatch(/"acme\.serch" matches no tool; tool "acme\.search" was just registered: a typo\?/);
    expect(text).not.toMatch(/"acme\.list" matches no tool/);
  });

  it('does not warn at creation about host-tool entries (registered after createGateway), only about built-in namespaces', async () => {
    const warnings = await warningsOf({ policy: { allowTools: ['shop.*', 'acme.search', 'db.query', 'pay.fetch'] }, connectors: { http: { allowedDomains: ['a.example'] } } });
    const text = warnings.join('\n');
    expect(text).not.toMatch(/shop|acme/);
    // No postgres connector and no wallet: those tools do not exist, and that is said.
    expect(text).toMatch(/policy\.allowTools\.2 "db\.query" matches no tool/);
    expect(text).toMatch(/policy\.allowTools\.3 "pay\.fetch" matches no tool/);
  });
});
