import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { GatewayConfig } from './config.js';
import { GatewayError } from './errors.js';

// The YAML parser is loaded at the first YAML document, not when the package is imported.
let yaml: typeof Yaml | undefined;
function parseYaml(text: string): unknown {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yaml.parse(text);
}

/**
 * Keys whose children are names chosen by the user (tool names, actor ids, domains) and must
 * not be converted from snake_case.
 */
const NAME_MAPS = new Set(['per_tool', 'actors', 'inject_headers']);

/** Section names of the seed's `config.yaml` that differ from ours. */
const RENAMED: Readonly<Record<string, string>> = { http_fetch: 'http' };

/** Secret-bearing keys and the environment variable to use instead. */
const SECRET_KEYS: Readonly<Record<string, string>> = {
  password: 'POSTGRES_PASSWORD (or PGPASSWORD)',
  passwd: 'POSTGRES_PASSWORD (or PGPASSWORD)',
  secret: 'an environment variable',
  token: 'an environment variable',
  api_key: 'an environment variable',
  apikey: 'an environment variable',
  private_key: 'an environment variable',
  nwc_uri: 'NWC_URI_FILE (a 0600 file holding the URI) or NWC_URI',
  macaroon: 'the encrypted credential store',
  preimage: 'the encrypted credential store',
  mnemonic: 'an environment variable',
  encryption_key: 'the OS keychain or a key file',
  inject_headers: 'connectors.http.injectHeaders, set in code from an environment variable',
};

/** A URL with a password in its userinfo, such as `postgres://user:pw@host/db`. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i;

/**
 * Maps a YAML document in the layout of the gateway security guide's `config.yaml`
 * (snake_case: `policy.default_deny`, `allow_tools`, `per_tool`, `connectors.filesystem.
 * allowed_paths`, `connectors.http_fetch.allowed_domains`, …) to a {@link GatewayConfig}.
 * The result is validated by `createGateway` (or {@link parseConfig}).
 *
 * @throws GatewayError `CONFIG_INVALID` when the text is not YAML, or holds a secret
 *   (passwords, tokens, keys, NWC URIs, URLs with a password): the message names the
 *   environment variable to use instead.
 */
export function configFromYaml(text: string, source = 'config'): GatewayConfig {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new GatewayError('CONFIG_INVALID', `${source} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new GatewayError('CONFIG_INVALID', `${source} must be a YAML mapping at the top level.`);
  }
  return mapKeys(document, [], source) as GatewayConfig;
}

/**
 * Reads a YAML config file (see {@link configFromYaml}).
 *
 * @throws GatewayError `CONFIG_INVALID` when the file cannot be read or is invalid.
 */
export async function loadConfigFile(path: string): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new GatewayError('CONFIG_INVALID', `Cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: error,
    });
  }
  return configFromYaml(text, path);
}

function mapKeys(value: unknown, path: string[], source: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => mapKeys(item, [...path, String(i)], source));
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string' && URL_WITH_PASSWORD.test(value)) {
      throw secretError(source, path, 'DATABASE_URL (or leave the password out and set PGPASSWORD)');
    }
    return value;
  }
  const parent = path.at(-1);
  const keepNames = parent !== undefined && NAME_MAPS.has(parent);
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const instead = keepNames ? undefined : SECRET_KEYS[key.toLowerCase()];
    if (instead !== undefined) throw secretError(source, [...path, key], instead);
    const mapped = keepNames ? key : camelCase(RENAMED[key] ?? key);
    out[mapped] = mapKeys(child, [...path, key], source);
  }
  return out;
}

function secretError(source: string, path: string[], instead: string): GatewayError {
  const at = path.join('.');
  return new GatewayError('CONFIG_INVALID', `${source}: "${at}" holds a secret, and secrets do not belong in config files. Use ${instead} instead.`, {
    data: { key: at },
  });
}

function camelCase(key: string): string {
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** One environment variable of {@link configFromEnv}. */
interface EnvMapping {
  name: string;
  apply(config: MutableConfig, raw: string, warn: (message: string) => void): void;
}

type MutableConfig = Record<string, Record<string, unknown>>;

function section(config: MutableConfig, ...path: string[]): Record<string, unknown> {
  let node: Record<string, unknown> = config;
  for (const key of path) {
    const next = (node[key] ??= {}) as Record<string, unknown>;
    node = next;
  }
  return node;
}

function integer(name: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim())) {
    throw new GatewayError('CONFIG_INVALID', `${name} must be a whole number, such as 1000.`, { data: { variable: name } });
  }
  return Number(raw.trim());
}

function boolean(name: string, raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off', ''].includes(value)) return false;
  throw new GatewayError('CONFIG_INVALID', `${name} must be true or false.`, { data: { variable: name } });
}

/** The variables {@link configFromEnv} reads. Later capabilities add theirs here. */
const ENV_MAPPINGS: readonly EnvMapping[] = [
  { name: 'MAX_AUTO_PAY_SATS', apply: (c, raw) => void (section(c, 'payments').maxAutoPaySats = integer('MAX_AUTO_PAY_SATS', raw)) },
  {
    name: 'MAX_SPEND_PER_MINUTE_SATS',
    apply: (c, raw) => void (section(c, 'payments').maxSpendPerMinuteSats = integer('MAX_SPEND_PER_MINUTE_SATS', raw)),
  },
  { name: 'MAX_FEE_SATS', apply: (c, raw) => void (section(c, 'payments').maxFeeSats = integer('MAX_FEE_SATS', raw)) },
  {
    name: 'GLOBAL_TIMEOUT_MS',
    apply: (c, raw) => void (section(c, 'policy').globalTimeoutMs = integer('GLOBAL_TIMEOUT_MS', raw)),
  },
  {
    name: 'GLOBAL_MAX_BYTES',
    apply: (c, raw) => void (section(c, 'policy').globalMaxBytes = integer('GLOBAL_MAX_BYTES', raw)),
  },
  { name: 'AUDIT_FILE', apply: (c, raw) => void (section(c, 'audit').file = raw) },
  {
    name: 'SSRF_ALLOW_PRIVATE',
    apply: (c, raw, warn) => {
      if (!boolean('SSRF_ALLOW_PRIVATE', raw)) return;
      warn(
        'SSRF_ALLOW_PRIVATE=true: outbound requests may reach private, loopback and link-local addresses. ' +
          'Never use this in production; prefer allowNetworks with the exact ranges you need.',
      );
      section(c, 'connectors', 'http').allowNetworks = ['0.0.0.0/0', '::/0'];
    },
  },
];

/** Options of {@link configFromEnv}. */
export interface ConfigFromEnvOptions {
  /** Where warnings go. Default: `process.emitWarning`. */
  warn?: (message: string) => void;
}

/**
 * Maps the environment variables of the payments security guide (`MAX_AUTO_PAY_SATS`,
 * `MAX_SPEND_PER_MINUTE_SATS`, `SSRF_ALLOW_PRIVATE`, …) to a partial {@link GatewayConfig}.
 * Unset variables are left out, so the result can be merged over a file's config with
 * {@link mergeConfig}.
 *
 * @throws GatewayError `CONFIG_INVALID` naming the variable whose value is malformed.
 * @example
 * ```ts
 * const config = mergeConfig(await loadConfigFile('config.yaml'), configFromEnv(process.env));
 * ```
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>, options: ConfigFromEnvOptions = {}): GatewayConfig {
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'PORTCULLIS_CONFIG' }));
  const config: MutableConfig = {};
  for (const mapping of ENV_MAPPINGS) {
    const raw = env[mapping.name];
    if (raw !== undefined) mapping.apply(config, raw, warn);
  }
  return config;
}

/**
 * Deep-merges configs left to right: objects merge, anything else (arrays included) is
 * replaced by the later value.
 */
export function mergeConfig(...configs: readonly GatewayConfig[]): GatewayConfig {
  return configs.reduce<Record<string, unknown>>((merged, next) => mergeObjects(merged, next), {});
}

function mergeObjects(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeObjects(current, value) : value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}
