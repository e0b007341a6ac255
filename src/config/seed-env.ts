import { configError, type GatewayConfig } from '../config.js';
import { type GatewayError } from '../errors.js';
import { editDistance, nearest } from './nearest.js';

/** A comma-separated list (`CORS_ORIGIN`, `cors`, `CASHU_MINTS`): trimmed, empty items dropped. */
export const commaList = (raw: string): string[] => raw.split(',').map((item) => item.trim()).filter((item) => item !== '');

/**
 * What the environment configures that is not configuration but a runtime object, for the
 * host (or `portcullis serve`) to build and pass to `createGateway(config, deps)`. Never a
 * secret's value: only where to find it.
 */
export interface RuntimeHints {
  /** `NWC_URI_FILE`: build `nwcWallet({ uriFile })` (the file must be 0600) and pass it as `deps.wallet`. */
  nwcUriFile?: string;
  /** `NWC_URI` is set: build `nwcWallet({ env })`, which reads it and deletes it from the environment. */
  nwcUriInEnv?: true;
  /**
   * `CASHU_TOKENS`: 402-mcp's plaintext token file. Build a `cashuWallet({ mints, store })` over
   * the credential store (`payments.credentialStoreDir`), pass it as `deps.cashu`, and move the
   * file into it with `cashu.importTokenFile(path)` (which confines the path to the home directory).
   */
  cashuTokensFile?: string;
  /** `CREDENTIAL_STORE`, also set as `payments.credentialStoreDir`: where the Cashu book and credentials live. */
  credentialStoreDir?: string;
}

/** What the environment yields: configuration, runtime hints, and the postgres password (kept apart, never in `config`). */
export interface EnvReading {
  config: GatewayConfig;
  hints: RuntimeHints;
  /** `POSTGRES_PASSWORD`, for the connection built by `loadGatewayConfig`. */
  postgresPassword?: string;
}

type Node = Record<string, Record<string, unknown>>;

interface EnvMapping {
  apply(reading: { config: Node; hints: RuntimeHints; postgresPassword?: string }, raw: string, warn: (message: string) => void): void;
}

function section(config: Node, ...path: string[]): Record<string, unknown> {
  let node: Record<string, unknown> = config;
  for (const key of path) node = (node[key] ??= {}) as Record<string, unknown>;
  return node;
}

function invalid(name: string, message: string): GatewayError {
  return configError([{ path: name, message }], 'Invalid environment', '');
}

function integer(name: string, raw: string): number {
  if (!/^\d{1,16}$/.test(raw.trim())) throw invalid(name, 'must be a whole number, such as 1000.');
  return Number(raw.trim());
}

function boolean(name: string, raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off', ''].includes(value)) return false;
  throw invalid(name, 'must be true or false.');
}

function path(name: string, raw: string): string {
  const value = raw.trim();
  if (value === '' || value.includes('\0')) throw invalid(name, 'must be a path.');
  return value;
}

const setting = (at: string[], read: (name: string, raw: string) => unknown) => (name: string): [string, EnvMapping] => [
  name,
  { apply: ({ config }, raw) => void (section(config, ...at.slice(0, -1))[at.at(-1) as string] = read(name, raw)) },
];

/** The variables read: 402-mcp's guide, the gateway's, and Portcullis' own. */
const ENV: ReadonlyMap<string, EnvMapping> = new Map<string, EnvMapping>([
  setting(['payments', 'maxAutoPaySats'], integer)('MAX_AUTO_PAY_SATS'),
  setting(['payments', 'maxSpendPerMinuteSats'], integer)('MAX_SPEND_PER_MINUTE_SATS'),
  setting(['payments', 'maxSpendPerDaySats'], integer)('MAX_SPEND_PER_DAY_SATS'),
  setting(['payments', 'maxSpendPerOriginPerMinuteSats'], integer)('MAX_SPEND_PER_ORIGIN_PER_MINUTE_SATS'),
  setting(['payments', 'maxSpendPerActorPerMinuteSats'], integer)('MAX_SPEND_PER_ACTOR_PER_MINUTE_SATS'),
  setting(['payments', 'maxFeeSats'], integer)('MAX_FEE_SATS'),
  setting(['policy', 'globalTimeoutMs'], integer)('GLOBAL_TIMEOUT_MS'),
  setting(['policy', 'globalMaxBytes'], integer)('GLOBAL_MAX_BYTES'),
  setting(['audit', 'file'], path)('AUDIT_FILE'),
  setting(['server', 'port'], integer)('PORT'),
  setting(['server', 'host'], (name, raw) => {
    const host = raw.trim();
    if (!/^[A-Za-z0-9.:[\]%-]{1,255}$/.test(host)) throw invalid(name, 'must be an address to bind, such as 127.0.0.1.');
    return host;
  })('BIND_ADDRESS'),
  setting(['server', 'transport'], (name, raw) => {
    const transport = raw.trim().toLowerCase();
    if (transport !== 'stdio' && transport !== 'http') throw invalid(name, 'must be stdio or http.');
    return transport;
  })('TRANSPORT'),
  [
    'CORS_ORIGIN',
    {
      apply: ({ config }, raw, warn) => {
        const origins = commaList(raw);
        if (origins.includes('*')) warn('CORS_ORIGIN=*: any web site may call this server from a browser. List the origins that need it instead.');
        section(config, 'server').corsOrigins = origins;
      },
    },
  ],
  [
    'CREDENTIAL_STORE',
    {
      apply: ({ config, hints }, raw) => {
        const dir = path('CREDENTIAL_STORE', raw);
        section(config, 'payments').credentialStoreDir = dir;
        hints.credentialStoreDir = dir;
      },
    },
  ],
  ['CASHU_TOKENS', { apply: ({ hints }, raw) => void (hints.cashuTokensFile = path('CASHU_TOKENS', raw)) }],
  ['NWC_URI_FILE', { apply: ({ hints }, raw) => void (hints.nwcUriFile = path('NWC_URI_FILE', raw)) }],
  ['NWC_URI', { apply: ({ hints }, raw) => void (raw.trim() === '' ? undefined : (hints.nwcUriInEnv = true)) }],
  ['POSTGRES_PASSWORD', { apply: (reading, raw) => void (raw === '' ? undefined : (reading.postgresPassword = raw)) }],
  [
    'SSRF_ALLOW_PRIVATE',
    {
      apply: ({ config }, raw, warn) => {
        if (!boolean('SSRF_ALLOW_PRIVATE', raw)) return;
        warn(
          'SSRF_ALLOW_PRIVATE=true: outbound requests may reach private, loopback and link-local addresses. ' +
            'Never use this in production; prefer allowNetworks with the exact ranges you need.',
        );
        section(config, 'connectors', 'http').allowNetworks = ['0.0.0.0/0', '::/0'];
      },
    },
  ],
  [
    'NODE_TLS_REJECT_UNAUTHORIZED',
    {
      apply: (_, raw, warn) => {
        if (raw.trim() === '0') warn('NODE_TLS_REJECT_UNAUTHORIZED=0 disables certificate checks for this process, which re-opens DNS rebinding over HTTPS.');
      },
    },
  ],
]);

/** The variable names read, for the README and the nearest-name hint. */
const ENV_VARIABLES: readonly string[] = [...ENV.keys()];

/** Variables with the shape of ours: a misspelling or an unknown one of these is refused, not ignored. */
const OUR_SHAPE = /^(PORTCULLIS_|NWC_|CASHU_|SSRF_|CREDENTIAL_|MAX_(AUTO|SPEND|FEE)|GLOBAL_(TIMEOUT|MAX)|AUDIT_)|_SATS?$/;

/** Whether an unknown variable is meant for us: our shape, or a near miss of a long known name. */
function looksOurs(name: string): boolean {
  const upper = name.toUpperCase();
  if (OUR_SHAPE.test(upper)) return true;
  if (upper.length < 8 || upper.length > 64) return false;
  for (const known of ENV_VARIABLES) {
    if (known.length >= 8 && editDistance(upper, known) <= 2) return true;
  }
  return false;
}

/**
 * Reads the environment (see `configFromEnv`): configuration, runtime hints and the postgres
 * password. A variable of our shape that is not known is `CONFIG_INVALID` naming the nearest
 * known one.
 */
export function readEnv(env: Readonly<Record<string, string | undefined>>, warn: (message: string) => void, otherVariables: readonly string[] = []): EnvReading {
  const others = new Set(otherVariables);
  const reading: { config: Node; hints: RuntimeHints; postgresPassword?: string } = { config: {}, hints: {} };
  const unknown: { path: string; message: string }[] = [];
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (raw === undefined) continue;
    const mapping = ENV.get(name);
    if (mapping !== undefined) mapping.apply(reading, raw, warn);
    else if (!others.has(name) && looksOurs(name)) {
      const hint = nearest(name, ENV_VARIABLES);
      unknown.push({ path: name, message: `is not a variable Portcullis knows${hint === undefined ? '' : ` (did you mean ${hint}?)`}` });
    }
  }
  if (unknown.length > 0) throw configError(unknown, 'Invalid environment', '');
  if (reading.hints.nwcUriFile !== undefined && reading.hints.nwcUriInEnv === true) {
    throw configError([{ path: 'NWC_URI', message: 'is set together with NWC_URI_FILE: keep one (prefer NWC_URI_FILE, a 0600 file)' }], 'Invalid environment', '');
  }
  return { config: reading.config, hints: reading.hints, ...(reading.postgresPassword === undefined ? {} : { postgresPassword: reading.postgresPassword }) };
}
