import { describe, expect, it } from 'vitest';
import { configFromEnv, loadGatewayConfig } from '../../src/config-loaders.js';
import { parseConfig } from '../../src/config.js';

const quiet = { warn: (): void => undefined };

function refusal(env: Record<string, string>): { code?: string; message: string; data?: { issues?: { path: string; message: string }[] } } {
  try {
    configFromEnv(env, quiet);
  } catch (error) {
    return error as never;
  }
  throw new Error('expected a refusal');
}

describe("402-mcp's environment variables", () => {
  it('maps every configuration variable of the guide and ours', () => {
    const config = configFromEnv(
      {
        MAX_AUTO_PAY_SATS: '500',
        MAX_SPEND_PER_MINUTE_SATS: '2000',
        MAX_SPEND_PER_DAY_SATS: '9000',
        MAX_SPEND_PER_ORIGIN_PER_MINUTE_SATS: '700',
        MAX_SPEND_PER_ACTOR_PER_MINUTE_SATS: '800',
        MAX_FEE_SATS: '3',
        GLOBAL_TIMEOUT_MS: '1000',
        GLOBAL_MAX_BYTES: '2048',
        AUDIT_FILE: '/var/log/portcullis.jsonl',
        TRANSPORT: 'HTTP',
        PORT: '8402',
        BIND_ADDRESS: '127.0.0.1',
        CORS_ORIGIN: 'https://a.example,https://b.example',
        CREDENTIAL_STORE: '/home/agent/.402-mcp',
        PATH: '/usr/bin',
        HOME: '/home/agent',
      },
      quiet,
    );
    expect(parseConfig(config)).toMatchObject({
      payments: { maxAutoPaySats: 500, maxSpendPerMinuteSats: 2000, maxSpendPerDaySats: 9000, maxSpendPerOriginPerMinuteSats: 700, maxSpendPerActorPerMinuteSats: 800, maxFeeSats: 3, credentialStoreDir: '/home/agent/.402-mcp' },
      policy: { globalTimeoutMs: 1000, globalMaxBytes: 2048 },
      audit: { file: '/var/log/portcullis.jsonl' },
      server: { transport: 'http', port: 8402, host: '127.0.0.1', corsOrigins: ['https://a.example', 'https://b.example'] },
    });
  });

  it('returns the runtime objects (wallet, Cashu book, store) as hints from loadGatewayConfig, never a secret value', async () => {
    const { hints, config, warnings } = await loadGatewayConfig({
      env: { NWC_URI_FILE: '/run/secrets/nwc', CASHU_TOKENS: '/home/a/.402-mcp/cashu.json', CREDENTIAL_STORE: '/home/a/.402-mcp' },
      warn: () => undefined,
    });
    expect(hints).toEqual({ nwcUriFile: '/run/secrets/nwc', cashuTokensFile: '/home/a/.402-mcp/cashu.json', credentialStoreDir: '/home/a/.402-mcp' });
    expect(config.payments?.credentialStoreDir).toBe('/home/a/.402-mcp');
    expect(warnings).toEqual([]);
    const secret = 'nostr+walletconnect://' + 'a'.repeat(64) + '?secret=' + 'b'.repeat(64);
    const fromEnv = await loadGatewayConfig({ env: { NWC_URI: secret }, warn: () => undefined });
    expect(fromEnv.hints).toEqual({ nwcUriInEnv: true });
    expect(JSON.stringify(fromEnv)).not.toContain('b'.repeat(64));
  });

  it('does not silently ignore runtime variables in configFromEnv: it warns that they need loadGatewayConfig', () => {
    const warnings: string[] = [];
    configFromEnv({ NWC_URI_FILE: '/x', CASHU_TOKENS: '/y' }, { warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/NWC_URI_FILE, CASHU_TOKENS configure a wallet.*loadGatewayConfig/);
  });

  it('refuses a misspelt or unknown variable of our shape, naming the nearest, without echoing its value', () => {
    const cases: [string, string][] = [
      ['MAX_AUTO_PAY_SAT', 'MAX_AUTO_PAY_SATS'],
      ['MAX_AUTOPAY_SATS', 'MAX_AUTO_PAY_SATS'],
      ['max_auto_pay_sats', 'MAX_AUTO_PAY_SATS'],
      ['MAX_SPEND_PER_MIN_SATS', 'MAX_SPEND_PER_MINUTE_SATS'],
      ['TRANSPROT', 'TRANSPORT'],
      ['BIND_ADRESS', 'BIND_ADDRESS'],
      ['CORS_ORIGINS', 'CORS_ORIGIN'],
      ['NWC_URI_FIEL', 'NWC_URI_FILE'],
      ['CREDENTIALS_STORE', 'CREDENTIAL_STORE'],
      ['CASHU_TOKEN', 'CASHU_TOKENS'],
      ['SSRF_ALLOW_PRIVATES', 'SSRF_ALLOW_PRIVATE'],
    ];
    for (const [name, known] of cases) {
      const error = refusal({ [name]: 'value-that-must-not-leak' });
      expect(error.code, name).toBe('CONFIG_INVALID');
      expect(error.message).toContain(`${name} is not a variable Portcullis knows (did you mean ${known}?)`);
      expect(error.data?.issues).toEqual([{ path: name, message: `is not a variable Portcullis knows (did you mean ${known}?)` }]);
      expect(error.message).not.toContain('value-that-must-not-leak');
    }
    // Our prefixes with no near name are refused too.
    expect(refusal({ PORTCULLIS_MODE: 'x' }).message).toMatch(/PORTCULLIS_MODE is not a variable Portcullis knows/);
    // unless the host says it reads it itself
    expect(configFromEnv({ PORTCULLIS_CONFIG: '/etc/p.yaml' }, { ...quiet, otherVariables: ['PORTCULLIS_CONFIG'] })).toEqual({});
  });

  it('leaves the rest of the environment alone', () => {
    expect(configFromEnv({ PATH: '/bin', PORTAL: 'x', HOSTNAME: 'h', NODE_ENV: 'production', POSTGRES_USER: 'x', LANG: 'C' }, quiet)).toEqual({});
  });

  it('refuses malformed values naming the variable', () => {
    expect(refusal({ MAX_AUTO_PAY_SATS: '1e3' }).message).toMatch(/MAX_AUTO_PAY_SATS must be a whole number/);
    expect(refusal({ PORT: '80 80' }).message).toMatch(/PORT must be a whole number/);
    expect(refusal({ TRANSPORT: 'sse' }).message).toMatch(/TRANSPORT must be stdio or http/);
    expect(refusal({ BIND_ADDRESS: '0.0.0.0; rm' }).message).toMatch(/BIND_ADDRESS must be an address/);
    expect(() => parseConfig(configFromEnv({ PORT: '70000' }, quiet))).toThrow(/config\.server\.port/);
    expect(refusal({ NWC_URI: 'nostr+walletconnect://x', NWC_URI_FILE: '/f' }).message).toMatch(/NWC_URI is set together with NWC_URI_FILE/);
  });

  it('warns about CORS_ORIGIN=* and NODE_TLS_REJECT_UNAUTHORIZED=0', () => {
    const warnings: string[] = [];
    configFromEnv({ CORS_ORIGIN: '*', NODE_TLS_REJECT_UNAUTHORIZED: '0' }, { warn: (m) => warnings.push(m) });
    expect(warnings.join('\n')).toMatch(/CORS_ORIGIN=\*/);
    expect(warnings.join('\n')).toMatch(/NODE_TLS_REJECT_UNAUTHORIZED=0/);
  });

  it('warns when POSTGRES_PASSWORD has no server connection to go into', async () => {
    const { warnings, config } = await loadGatewayConfig({ env: { POSTGRES_PASSWORD: 'hunter2' }, warn: () => undefined });
    expect(warnings.join('\n')).toMatch(/POSTGRES_PASSWORD is set but no postgres server is configured/);
    expect(JSON.stringify(config)).not.toContain('hunter2');
  });

  it('lets the environment win over the file', async () => {
    const { resolved } = await loadGatewayConfig({ text: 'server: { http_port: 3000, transport: stdio }\npayments: { max_auto_pay_sats: 5 }', env: { PORT: '4000', TRANSPORT: 'http', MAX_AUTO_PAY_SATS: '7' }, warn: () => undefined });
    expect(resolved.server).toMatchObject({ port: 4000, transport: 'http' });
    expect(resolved.payments.maxAutoPaySats).toBe(7);
  });
});
