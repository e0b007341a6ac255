import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { parseConfig, type GatewayConfig, type ResolvedConfig } from './config.js';
import { GatewayError } from './errors.js';
import { mapSeedDocument } from './config/seed-yaml.js';
import { readEnv, type RuntimeHints } from './config/seed-env.js';

export type { RuntimeHints } from './config/seed-env.js';

/** Options of the loaders ({@link configFromEnv}, {@link configFromYaml}, {@link loadConfigFile}). */
export interface ConfigFromEnvOptions {
  /** Where warnings go (renamed keys and tools, risky settings). Default: `process.emitWarning` (stderr, never stdout). */
  warn?: ((message: string) => void) | undefined;
  /** Variables the host reads itself (such as `PORTCULLIS_CONFIG`): not refused as unknown. @default none */
  otherVariables?: readonly string[] | undefined;
}

// The YAML parser is loaded at the first YAML document, not when the package is imported.
let yaml: typeof Yaml | undefined;
function parseYaml(text: string, options: Yaml.ParseOptions & Yaml.DocumentOptions & Yaml.SchemaOptions & Yaml.ToJSOptions): unknown {
  yaml ??= createRequire(import.meta.url)('yaml') as typeof Yaml;
  return yaml.parse(text, options);
}

const defaultWarn = (message: string): void => void process.emitWarning(message, { code: 'PORTCULLIS_CONFIG' });

/**
 * Maps a YAML document in the layout of the gateway security guide's `config.yaml`
 * (snake_case: `server.http_port`, `policy.default_deny`, `allow_tools`, `per_tool`,
 * `connectors.filesystem.allowed_paths`, `connectors.http_fetch.allowed_domains`,
 * `connectors.postgres.{enabled, host, port, user, database, ssl}`, …) to a {@link GatewayConfig}.
 * Renamed keys and tools (`http_fetch` → `http`, `web.fetch` → `http.fetch`) are read under
 * their new name with a warning; `enabled: false` turns a section off. The result is validated
 * by `createGateway` (or {@link parseConfig}); unknown keys are refused there.
 *
 * @throws GatewayError `CONFIG_INVALID` when the text is not YAML, or holds a secret
 *   (passwords, tokens, keys, NWC URIs, URLs with a password): the message names the
 *   environment variable to use instead.
 */
export function configFromYaml(text: string, source = 'config', options: ConfigFromEnvOptions = {}): GatewayConfig {
  let document: unknown;
  try {
    document = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw new GatewayError('CONFIG_INVALID', `${source} is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    throw new GatewayError('CONFIG_INVALID', `${source} must be a YAML mapping at the top level.`);
  }
  return mapSeedDocument(document as Record<string, unknown>, source, options.warn ?? defaultWarn);
}

/**
 * Reads a YAML config file (see {@link configFromYaml}).
 *
 * @throws GatewayError `CONFIG_INVALID` when the file cannot be read or is invalid.
 */
export async function loadConfigFile(path: string, options: ConfigFromEnvOptions = {}): Promise<GatewayConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new GatewayError('CONFIG_INVALID', `Cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      cause: error,
    });
  }
  return configFromYaml(text, path, options);
}

/**
 * Maps the environment variables of the payments guide (`MAX_AUTO_PAY_SATS`,
 * `MAX_SPEND_PER_MINUTE_SATS`, `SSRF_ALLOW_PRIVATE`, `TRANSPORT`, `PORT`, `BIND_ADDRESS`,
 * `CORS_ORIGIN`, `CREDENTIAL_STORE`, …) to a partial {@link GatewayConfig}. Unset variables
 * are left out, so the result can be merged over a file's config with {@link mergeConfig}.
 * Variables that configure a runtime object (`NWC_URI_FILE`, `NWC_URI`, `CASHU_TOKENS`,
 * `POSTGRES_PASSWORD`) are not configuration: they are warned about here, and returned by
 * {@link loadGatewayConfig}.
 *
 * @throws GatewayError `CONFIG_INVALID` naming a variable whose value is malformed, or a
 *   variable of our shape that is unknown (a typo such as `MAX_AUTO_PAY_SAT`) and the nearest known one.
 * @example
 * ```ts
 * const config = mergeConfig(await loadConfigFile('config.yaml'), configFromEnv(process.env));
 * ```
 */
export function configFromEnv(env: Readonly<Record<string, string | undefined>>, options: ConfigFromEnvOptions = {}): GatewayConfig {
  const warn = options.warn ?? defaultWarn;
  const reading = readEnv(env, warn, options.otherVariables);
  const runtime = [
    reading.hints.nwcUriFile === undefined ? undefined : 'NWC_URI_FILE',
    reading.hints.nwcUriInEnv === undefined ? undefined : 'NWC_URI',
    reading.hints.cashuTokensFile === undefined ? undefined : 'CASHU_TOKENS',
    reading.postgresPassword === undefined ? undefined : 'POSTGRES_PASSWORD',
  ].filter((name) => name !== undefined);
  if (runtime.length > 0) {
    warn(`${runtime.join(', ')} configure${runtime.length === 1 ? 's' : ''} a wallet or a connection, not configuration: configFromEnv does not use ${runtime.length === 1 ? 'it' : 'them'}; use loadGatewayConfig() (or build the wallet yourself).`);
  }
  return reading.config;
}

/** Options of {@link loadGatewayConfig}. */
export interface LoadGatewayConfigOptions extends ConfigFromEnvOptions {
  /** A YAML file in the seed layout (see {@link configFromYaml}). */
  file?: string | undefined;
  /** Or its text (with `source` naming it in messages). */
  text?: string | undefined;
  /** Names `text` in messages. @default 'config' */
  source?: string | undefined;
  /** The environment; it wins over the file. @default process.env */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** What {@link loadGatewayConfig} returns. */
export interface LoadedConfig {
  /** Pass it to `createGateway(config, deps)`. Holds the postgres password inside `connectionString` when `POSTGRES_PASSWORD` is set. */
  config: GatewayConfig;
  /** The same, validated, defaults applied. */
  resolved: ResolvedConfig;
  /** Runtime objects to build and pass as `deps` (wallet, Cashu book). */
  hints: RuntimeHints;
  /** Every warning, also sent to `warn`. */
  warnings: string[];
}

/**
 * Loads a configuration the way a host would build it in code: the YAML file (seed layout),
 * then the environment over it, validated. Returns the config, the runtime hints (`NWC_URI_FILE`
 * → a wallet, `CASHU_TOKENS` → the Cashu book, `CREDENTIAL_STORE` → the store directory) and
 * the warnings. `POSTGRES_PASSWORD` goes into the postgres `connectionString` built from
 * `host`/`user`/`database` (a config file never holds it).
 *
 * @throws GatewayError `CONFIG_INVALID` with `data.issues` (`{ path, message }`).
 * @example
 * ```ts
 * const { config, hints } = await loadGatewayConfig({ file: 'config.yaml', env: process.env });
 * const wallet = hints.nwcUriFile === undefined ? undefined : await nwcWallet({ uriFile: hints.nwcUriFile });
 * const gw = await createGateway(config, { wallet });
 * ```
 */
export async function loadGatewayConfig(options: LoadGatewayConfigOptions = {}): Promise<LoadedConfig> {
  const warnings: string[] = [];
  const sink = options.warn ?? defaultWarn;
  const warn = (message: string): void => {
    warnings.push(message);
    sink(message);
  };
  let fromFile: GatewayConfig = {};
  if (options.file !== undefined) fromFile = await loadConfigFile(options.file, { warn });
  else if (options.text !== undefined) fromFile = configFromYaml(options.text, options.source ?? 'config', { warn });
  const reading = readEnv(options.env ?? process.env, warn, options.otherVariables);
  const config = mergeConfig(fromFile, reading.config);
  if (reading.postgresPassword !== undefined) withPostgresPassword(config, reading.postgresPassword, warn);
  // Settings that are legal but misleading (maxAutoPaySats above the per-minute budget, policy
  // entries matching no tool) are warned about by createGateway, which knows the tools.
  const resolved = parseConfig(config);
  return { config, resolved, hints: reading.hints, warnings };
}

/** Puts the password into the postgres connection string (which a config file may not carry one in). */
function withPostgresPassword(config: GatewayConfig, password: string, warn: (message: string) => void): void {
  const postgres = config.connectors?.postgres;
  if (postgres === undefined || postgres.embedded === true || postgres.connectionString === undefined) {
    warn('POSTGRES_PASSWORD is set but no postgres server is configured (connectors.postgres with host, user and database): it is not used.');
    return;
  }
  let url: URL;
  try {
    url = new URL(postgres.connectionString);
  } catch {
    return; // parseConfig / the connector report the malformed string
  }
  if (url.password !== '') {
    warn('POSTGRES_PASSWORD is set but the connection string already has a password: the connection string wins.');
    return;
  }
  if (url.username === '') {
    warn('POSTGRES_PASSWORD is set but connectors.postgres names no user: it is not used.');
    return;
  }
  url.password = encodeURIComponent(password);
  postgres.connectionString = url.href;
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
    const current = Object.hasOwn(out, key) ? out[key] : undefined;
    const merged = isPlainObject(current) && isPlainObject(value) ? mergeObjects(current, value) : value;
    // An own property even for `__proto__`: the schema then refuses it instead of it vanishing.
    Object.defineProperty(out, key, { value: merged, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}
