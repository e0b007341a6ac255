import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseConnectionString } from 'pg-connection-string';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGateway } from '../../src/gateway.js';
import { parseConfig } from '../../src/config.js';
import { configFromYaml, loadGatewayConfig } from '../../src/config-loaders.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const SEED = fileURLToPath(new URL('../fixtures/seed-gateway-config.yaml', import.meta.url));

function thrown(run: () => unknown): { code?: string; message: string; data?: { issues?: { path: string; message: string }[] } } {
  try {
    run();
  } catch (error) {
    return error as never;
  }
  throw new Error('expected a throw');
}

describe("the seed's own config.yaml", () => {
  it('loads in full: server, policy, per_tool, audit, filesystem, http_fetch and postgres', async () => {
    const warnings: string[] = [];
    const { resolved, hints } = await loadGatewayConfig({ file: SEED, env: {}, warn: (m) => warnings.push(m) });
    expect(resolved.server).toEqual({ transport: 'stdio', port: 3000, host: '127.0.0.1', corsOrigins: ['https://app.example.com'], name: 'portcullis', toolNames: 'dotted' });
    expect(resolved.policy).toMatchObject({
      defaultDeny: true,
      allowTools: ['fs.readFile', 'http.fetch', 'db.query'],
      globalTimeoutMs: 30_000,
      globalMaxBytes: 10_485_760,
      perTool: { 'db.query': { timeoutMs: 60_000, maxBytes: 52_428_800 } },
    });
    expect(resolved.audit.file).toBe('./audit.jsonl');
    expect(resolved.connectors.filesystem).toMatchObject({ allowedPaths: ['/app/data'], deniedPaths: ['/app/data/secrets'] });
    expect(resolved.connectors.http?.allowedDomains).toEqual(['api.github.com', '*.example.com']);
    expect(resolved.connectors.postgres?.connectionString).toBe('postgres://mcp_readonly@db.internal:5432/mydb?sslmode=verify-full');
    expect(hints).toEqual({});
    // Every renamed name is read with a warning naming old and new.
    expect(warnings.join('\n')).toMatch(/web\.fetch" is now "http\.fetch"/);
    expect(warnings.join('\n')).toMatch(/connectors\.http_fetch is now connectors\.http/);
    expect(warnings.join('\n')).toMatch(/server\.http_port is now server\.port/);
    expect(warnings.join('\n')).toMatch(/audit\.log_file is now audit\.file/);
  });

  it('takes the postgres password from POSTGRES_PASSWORD only, encoded so that pg reads it back exactly', async () => {
    const password = 'p@ss:w/rd%?#&=é';
    const warnings: string[] = [];
    const { config } = await loadGatewayConfig({ file: SEED, env: { POSTGRES_PASSWORD: password }, warn: (m) => warnings.push(m) });
    const parsed = parseConnectionString(config.connectors?.postgres?.connectionString ?? '');
    expect(parsed).toMatchObject({ user: 'mcp_readonly', password, host: 'db.internal', port: '5432', database: 'mydb' });
    expect(warnings.join('\n')).not.toContain('p@ss');
  });

  it('refuses a password in the file, in any spelling, without echoing it', async () => {
    const text = await readFile(SEED, 'utf8');
    for (const key of ['password', 'Password', 'PASSWORD', 'db_password', 'dbPassword', 'pass-wd', 'auth_token']) {
      const yaml = text.replace('    # password: NEVER_PUT_HERE', `    ${key}: hunter2-secret`);
      if (key === 'pass-wd') {
        // not a secret name: refused as an unknown key instead, still without the value
        expect(() => parseConfig(configFromYaml(yaml, 'c', { warn: () => undefined }))).toThrow(/pass-wd is not a known option/);
        continue;
      }
      const error = thrown(() => configFromYaml(yaml, 'config.yaml'));
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      expect(error.message).toMatch(/secrets do not belong in config files/);
      expect(error.message).not.toContain('hunter2');
    }
  });

  it('enabled: false turns a connector or the audit file off; a non-boolean is refused', () => {
    const config = parseConfig(configFromYaml('audit: { enabled: false, log_file: a.jsonl }\nconnectors:\n  postgres: { enabled: false, host: db }\n  http_fetch: { enabled: true, allowed_domains: [a.example] }\n', 'c', { warn: () => undefined }));
    expect(config.connectors.postgres).toBeUndefined();
    expect(config.audit.file).toBeUndefined();
    expect(config.connectors.http?.allowedDomains).toEqual(['a.example']);
    expect(() => configFromYaml('connectors:\n  postgres: { enabled: "yes" }\n')).toThrow(/connectors\.postgres\.enabled: must be true or false/);
  });

  it('refuses a misspelt key naming the nearest one, the seed spelling included', () => {
    const cases: [string, RegExp][] = [
      ['policy:\n  allow_tool: [fs.readFile]\n', /config\.policy\.allowTool is not a known option \(did you mean "allowTools"\?\)/],
      ['server:\n  http_prot: 3000\n', /config\.server\.httpProt is not a known option \(did you mean "port", the seed's "httpPort"\?\)/],
      ['server:\n  transprt: http\n', /did you mean "transport"/],
      ['connectors:\n  http_fetch:\n    allowed_domain: [a.example]\n', /config\.connectors\.http\.allowedDomain .*did you mean "allowedDomains"/],
      ['connectors:\n  postgres:\n    hots: db\n', /config\.connectors\.postgres\.hots is not a known option/],
      ['polcy: {}\n', /config\.polcy is not a known option \(did you mean "policy"\?\)/],
    ];
    for (const [yaml, pattern] of cases) {
      const error = thrown(() => parseConfig(configFromYaml(yaml, 'c', { warn: () => undefined })));
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toMatch(pattern);
      expect(error.data?.issues?.[0]).toEqual({ path: expect.any(String) as unknown, message: expect.stringMatching(/is not a known option/) as unknown });
    }
  });

  it('refuses postgres parts that cannot form a connection, and parts next to a connection string', () => {
    expect(() => configFromYaml('connectors:\n  postgres: { host: "db/evil?x", user: a }\n')).toThrow(/connectors\.postgres\.host/);
    expect(() => configFromYaml('connectors:\n  postgres: { host: db, port: 99999 }\n')).toThrow(/connectors\.postgres\.port/);
    expect(() => configFromYaml('connectors:\n  postgres: { host: db, ssl: maybe }\n')).toThrow(/connectors\.postgres\.ssl/);
    expect(() => configFromYaml('connectors:\n  postgres: { host: db, connection_string: "postgres://a@b/c" }\n')).toThrow(/either connectionString or its parts/);
    expect(configFromYaml('connectors:\n  postgres: { host: "::1", user: "a b", database: "d/b", ssl: false }\n').connectors?.postgres?.connectionString).toBe('postgres://a%20b@[::1]:5432/d%2Fb?sslmode=disable');
  });

  it('refuses __proto__, constructor and other inherited names as unknown keys instead of losing them', async () => {
    for (const yaml of ['policy:\n  __proto__:\n    default_deny: false\n', '__proto__:\n  policy: {}\n', 'policy:\n  constructor: x\n', 'connectors:\n  toString: {}\n', 'policy:\n  allow_tools: [__proto__, constructor]\n']) {
      const run = () => parseConfig(configFromYaml(yaml, 'c', { warn: () => undefined }));
      if (yaml.includes('allow_tools')) {
        expect(run().policy.allowTools).toEqual(['__proto__', 'constructor']); // names, kept as written
        continue;
      }
      expect(run, yaml).toThrow(/is not a known option/);
    }
    // Through mergeConfig as well (loadGatewayConfig merges the file and the environment).
    await expect(loadGatewayConfig({ text: 'policy:\n  __proto__:\n    default_deny: false\n', env: {}, warn: () => undefined })).rejects.toThrow(/config\.policy\.__proto__ is not a known option/);
  });

  it('maps every renamed server key, and CORS as one origin, a list or false', () => {
    const quiet = { warn: () => undefined };
    expect(configFromYaml('server: { bind_address: 0.0.0.0, cors: false }', 'c', quiet).server).toEqual({ host: '0.0.0.0', corsOrigins: [] });
    expect(configFromYaml('server: { bind: ::1, cors_origin: "https://a.example, https://b.example" }', 'c', quiet).server).toEqual({ host: '::1', corsOrigins: ['https://a.example', 'https://b.example'] });
    expect(() => configFromYaml('server: { bind: a, host: b }', 'c', quiet)).toThrow(/server\.host: is given twice|server\.host is given twice/);
  });
});

describe('a gateway from the seed layout and a real PostgreSQL', () => {
  let db: TestPostgres;
  beforeAll(async () => {
    db = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    await db?.stop();
  });

  it('connects with the connection built from host, port, user, database and ssl, and runs db.query', async () => {
    const yaml = `
policy:
  allow_tools: [db.query]
connectors:
  postgres:
    enabled: true
    host: 127.0.0.1
    port: ${db.port}
    user: portcullis_admin
    database: postgres
    ssl: false
    warn_if_superuser: false
`;
    const { config } = await loadGatewayConfig({ text: yaml, env: { POSTGRES_PASSWORD: 'unused-by-trust-auth' }, warn: () => undefined });
    await using gw = await createGateway(config, { logger: { warn: () => undefined } });
    const result = await gw.call<{ rows: unknown[] }>('db.query', { sql: 'SELECT 1 AS one' });
    expect(result.rows).toEqual([{ one: 1 }]);
  });
});
