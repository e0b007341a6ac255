import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/index.js';
import { readAudit } from '../helpers/audit.js';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { tempDir, type TempDir } from '../helpers/temp-dir.js';
import { testZone } from './setup.js';

async function gateway(server: TestServer, dir: TempDir, extra: { perTool?: Record<string, { timeoutMs?: number; maxBytes?: number }> } = {}): Promise<Gateway & { dialled: string[] }> {
  const dial = loopbackOnlyDial();
  const gw = await createGateway(
    {
      policy: { allowTools: ['http.fetch'], perTool: extra.perTool ?? {} },
      audit: { file: dir.join('audit.jsonl') },
      connectors: {
        http: {
          allowedDomains: ['api.test', 'private.test'],
          allowedPorts: [server.port],
          allowNetworks: ['127.0.0.1/32'],
          allowedMethods: ['GET', 'POST'],
          injectHeaders: { [`http://api.test:${server.port}`]: { authorization: 'Bearer host-secret-token' } },
        },
      },
    },
    { resolver: testZone(), dial, logger: { warn: () => undefined } },
  );
  return Object.assign(gw, { dialled: dial.dialled });
}

describe('http.fetch tool', () => {
  it('returns status, filtered headers and a text body, and audits the call', async () => {
    await using dir = await tempDir();
    await using server = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': 'sid=1' }).end('{"ok":true}'));
    await using gw = await gateway(server, dir);
    const result = await gw.call<{ status: number; body: string; encoding: string; headers: Record<string, string>; bytes: number }>('http.fetch', {
      url: `http://api.test:${server.port}/v1?x=1`,
    });
    expect(result).toMatchObject({ status: 200, body: '{"ok":true}', encoding: 'utf8', bytes: 11 });
    expect(result.headers['set-cookie']).toBeUndefined();
    expect(server.requests[0]?.headers.authorization).toBe('Bearer host-secret-token');
    await gw.close();
    const [record] = await readAudit(dir.join('audit.jsonl'));
    expect(record).toMatchObject({ tool: 'http.fetch', decision: 'allow', result_bytes: 11, error_code: null });
    expect(await readFile(dir.join('audit.jsonl'), 'utf8')).not.toContain('host-secret-token');
  });

  it('returns a binary body as base64', async () => {
    await using dir = await tempDir();
    await using server = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0xff])));
    await using gw = await gateway(server, dir);
    const result = await gw.call<{ body: string; encoding: string }>('http.fetch', { url: `http://api.test:${server.port}/logo.png` });
    expect(result).toEqual(expect.objectContaining({ encoding: 'base64', body: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0xff]).toString('base64') }));
  });

  it('audits an SSRF refusal as a denial and opens no socket', async () => {
    await using dir = await tempDir();
    await using server = await startServer((_req, res) => res.end('x'));
    await using gw = await gateway(server, dir);
    await expect(gw.call('http.fetch', { url: `http://private.test:${server.port}/` })).rejects.toMatchObject({ code: 'SSRF_BLOCKED' });
    await expect(gw.call('http.fetch', { url: `http://evil.test:${server.port}/` })).rejects.toMatchObject({ code: 'DOMAIN_NOT_ALLOWED' });
    await gw.close();
    expect(gw.dialled).toEqual([]);
    expect(server.connections).toBe(0);
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.decision, r.error_code])).toEqual([
      ['deny', 'SSRF_BLOCKED'],
      ['deny', 'DOMAIN_NOT_ALLOWED'],
    ]);
  });

  it('refuses agent-supplied credentials and transport headers, and unlisted methods, before any request', async () => {
    await using dir = await tempDir();
    await using server = await startServer((_req, res) => res.end('x'));
    await using gw = await gateway(server, dir);
    const url = `http://api.test:${server.port}/`;
    for (const name of ['Authorization', 'cookie', 'x-api-key', 'X-Auth-Token', 'proxy-authorization', 'transfer-encoding', 'host']) {
      await expect(gw.call('http.fetch', { url, headers: { [name]: 'v' } }), name).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    await expect(gw.call('http.fetch', { url, method: 'DELETE' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(gw.call('http.fetch', { url, headers: { 'x-ok': 'a\r\nInjected: 1' } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(server.connections).toBe(0);
  });

  it('keeps to the per-tool size and time limits', async () => {
    await using dir = await tempDir();
    await using server = await startServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      res.end(Buffer.alloc(4096, 0x61));
    });
    await using gw = await gateway(server, dir, { perTool: { 'http.fetch': { maxBytes: 1024, timeoutMs: 150 } } });
    await expect(gw.call('http.fetch', { url: `http://api.test:${server.port}/big` })).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    await expect(gw.call('http.fetch', { url: `http://api.test:${server.port}/slow` })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.decision, r.error_code])).toEqual([
      ['deny', 'RESPONSE_TOO_LARGE'],
      ['deny', 'TIMEOUT'],
    ]);
  });
});

describe('SSRF_ALLOW_PRIVATE', () => {
  it('maps to allowing every address, with a loud warning at start-up', async () => {
    const { configFromEnv, mergeConfig } = await import('../../src/index.js');
    const envWarnings: string[] = [];
    const fromEnv = configFromEnv({ SSRF_ALLOW_PRIVATE: 'true' }, { warn: (m) => envWarnings.push(m) });
    const warnings: string[] = [];
    await using gw = await createGateway(mergeConfig({ connectors: { http: { allowedDomains: ['api.test'] } } }, fromEnv), {
      logger: { warn: (m) => warnings.push(m) },
    });
    expect(gw.config.connectors.http?.allowNetworks).toEqual(['0.0.0.0/0', '::/0']);
    expect(envWarnings.join('\n')).toMatch(/never use this in production/i);
    expect(warnings.join('\n')).toMatch(/SSRF guard no longer protects/);
  });
});
