import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../test/helpers/temp-dir.js';
import { parseConfig } from './config.js';
import { configFromEnv, configFromYaml, loadConfigFile, mergeConfig } from './config-loaders.js';

const SEED_POLICY = `
policy:
  default_deny: true  # ALWAYS keep this true in production
  allow_tools:
    - fs.readFile
    - db.query
  global_timeout_ms: 30000
  global_max_bytes: 10485760
  per_tool:
    db.query:
      timeout_ms: 60000
      max_bytes: 52428800
`;

describe('configFromYaml (the seed layout)', () => {
  it('maps snake_case policy keys and keeps tool names as they are', () => {
    const config = parseConfig(configFromYaml(SEED_POLICY));
    expect(config.policy).toMatchObject({
      defaultDeny: true,
      allowTools: ['fs.readFile', 'db.query'],
      globalTimeoutMs: 30_000,
      globalMaxBytes: 10_485_760,
      perTool: { 'db.query': { timeoutMs: 60_000, maxBytes: 52_428_800 } },
    });
  });

  it('maps the seed connector sections (http_fetch becomes http)', () => {
    const config = configFromYaml(`
connectors:
  filesystem:
    allowed_paths: [/app/data]
    denied_paths: [/app/data/secrets]
  http_fetch:
    allowed_domains: [api.github.com, "*.example.com"]
`);
    expect(config).toEqual({
      connectors: {
        filesystem: { allowedPaths: ['/app/data'], deniedPaths: ['/app/data/secrets'] },
        http: { allowedDomains: ['api.github.com', '*.example.com'] },
      },
    });
  });

  it('refuses a password and names the environment variable to use', () => {
    expect(() => configFromYaml('connectors:\n  postgres:\n    host: db.internal\n    password: hunter2\n')).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/connectors\.postgres\.password.*POSTGRES_PASSWORD/) as unknown }) as unknown,
    );
  });

  it('refuses a URL with a password, an NWC URI and tokens, without echoing them', () => {
    const attempts = [
      'connectors:\n  postgres:\n    connection_string: postgres://app:hunter2@db/x\n',
      'payments:\n  nwc_uri: nostr+walletconnect://abc?secret=hunter2\n',
      'http:\n  token: hunter2\n',
    ];
    for (const yaml of attempts) {
      const error = (() => {
        try {
          configFromYaml(yaml);
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(error).toMatchObject({ code: 'CONFIG_INVALID' });
      expect(error?.message).not.toContain('hunter2');
    }
  });

  it('reports YAML syntax errors as CONFIG_INVALID', () => {
    expect(() => configFromYaml('policy: [unclosed')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as unknown);
    expect(() => configFromYaml('- a list')).toThrow(/mapping/);
  });

  it('loads a file, and reports a missing one as CONFIG_INVALID', async () => {
    await using dir = await tempDir();
    await writeFile(dir.join('config.yaml'), SEED_POLICY);
    expect((await loadConfigFile(dir.join('config.yaml'))).policy?.allowTools).toEqual(['fs.readFile', 'db.query']);
    await expect(loadConfigFile(dir.join('missing.yaml'))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('configFromEnv', () => {
  it('maps the payment limits of the payments guide', () => {
    expect(configFromEnv({ MAX_AUTO_PAY_SATS: '500', MAX_SPEND_PER_MINUTE_SATS: '2000', UNRELATED: 'x' })).toEqual({
      payments: { maxAutoPaySats: 500, maxSpendPerMinuteSats: 2000 },
    });
  });

  it('refuses malformed numbers naming the variable', () => {
    expect(() => configFromEnv({ MAX_AUTO_PAY_SATS: '1e3' })).toThrow(/MAX_AUTO_PAY_SATS must be a whole number/);
    expect(() => configFromEnv({ MAX_SPEND_PER_MINUTE_SATS: '-5' })).toThrow(/MAX_SPEND_PER_MINUTE_SATS/);
  });

  it('maps SSRF_ALLOW_PRIVATE=true to allowing every network, with a loud warning', () => {
    const warnings: string[] = [];
    expect(configFromEnv({ SSRF_ALLOW_PRIVATE: 'true' }, { warn: (m) => warnings.push(m) })).toEqual({
      connectors: { http: { allowNetworks: ['0.0.0.0/0', '::/0'] } },
    });
    expect(warnings[0]).toMatch(/Never use this in production/);
    expect(configFromEnv({ SSRF_ALLOW_PRIVATE: 'false' })).toEqual({});
    expect(() => configFromEnv({ SSRF_ALLOW_PRIVATE: 'maybe' })).toThrow(/true or false/);
  });

  it('merges over a file config, the environment winning', () => {
    const merged = mergeConfig(configFromYaml(SEED_POLICY), { payments: { maxAutoPaySats: 5 } }, configFromEnv({ MAX_AUTO_PAY_SATS: '7' }));
    expect(merged.payments).toEqual({ maxAutoPaySats: 7 });
    expect(merged.policy?.allowTools).toEqual(['fs.readFile', 'db.query']);
  });
});
