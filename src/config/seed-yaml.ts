import { GatewayError } from '../errors.js';
import { configError } from '../config.js';
import { own, RENAMED_KEYS, RENAMED_TOOLS } from './renames.js';
import { commaList } from './seed-env.js';

/**
 * Keys whose children are names chosen by the user (tool names, actor ids, domains) and must
 * not be converted from snake_case.
 */
const NAME_MAPS = new Set(['per_tool', 'perTool', 'actors', 'inject_headers', 'injectHeaders', 'wallet_order_by_origin', 'walletOrderByOrigin', 'when']);

/** Secret-bearing keys and the environment variable to use instead. */
const SECRET_KEYS: Readonly<Record<string, string>> = {
  password: 'POSTGRES_PASSWORD',
  passwd: 'POSTGRES_PASSWORD',
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

/** Any other key naming a secret: `db_password`, `auth_token`, `openai_api_key`. */
const SECRET_NAME = /(^|_)(password|passwd|secret|token|api_?key|private_key|macaroon|preimage|mnemonic|nwc_uri)$/;

/** A URL with a password in its userinfo, such as `postgres://user:pw@host/db`. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:[^/@\s]+@/i;

type Node = Record<string, unknown>;

/**
 * Maps a parsed document in the seed's layout to Portcullis' (see `configFromYaml`): keys to
 * camelCase, renamed keys and tools with a warning, `enabled` flags, the `server` section, and
 * the postgres connection from its parts. Secrets are refused.
 */
export function mapSeedDocument(document: Node, source: string, warn: (message: string) => void): Node {
  const mapped = mapKeys(document, [], [], source, warn) as Node;
  applyEnabled(mapped, source);
  mapServer(mapped, source);
  mapPostgres(mapped, source);
  renameTools(mapped, source, warn);
  return mapped;
}

function mapKeys(value: unknown, path: string[], ourPath: string[], source: string, warn: (message: string) => void): unknown {
  if (Array.isArray(value)) return value.map((item, i) => mapKeys(item, [...path, String(i)], [...ourPath, String(i)], source, warn));
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'string' && URL_WITH_PASSWORD.test(value)) {
      throw secretError(source, path, 'DATABASE_URL in code, or the parts (host, user, database) and POSTGRES_PASSWORD');
    }
    return value;
  }
  const parent = path.at(-1);
  const keepNames = parent !== undefined && NAME_MAPS.has(parent);
  const renames = own(RENAMED_KEYS, ourPath.join('.')) ?? {};
  const out: Node = {};
  for (const [key, child] of Object.entries(value as Node)) {
    const normal = key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replaceAll('-', '_');
    const instead = keepNames ? undefined : (own(SECRET_KEYS, normal) ?? (SECRET_NAME.test(normal) ? 'an environment variable' : undefined));
    if (instead !== undefined) throw secretError(source, [...path, key], instead);
    let ours = key;
    if (!keepNames) {
      const renamed = own(renames, key);
      if (renamed !== undefined) {
        warn(`${source}: ${[...path, key].join('.')} is now ${[...ourPath, renamed].join('.')}; read as such.`);
      }
      ours = renamed ?? camelCase(key);
    }
    if (Object.hasOwn(out, ours)) {
      throw configError([{ path: [...ourPath, ours].join('.'), message: `is given twice (as ${[...path, key].join('.')} and under another spelling); keep one` }], source);
    }
    // An own property even for `__proto__`, so the schema sees (and refuses) it rather than the key vanishing.
    Object.defineProperty(out, ours, { value: mapKeys(child, [...path, key], [...ourPath, ours], source, warn), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function secretError(source: string, path: string[], instead: string): GatewayError {
  const at = path.join('.');
  return new GatewayError('CONFIG_INVALID', `${source}: "${at}" holds a secret, and secrets do not belong in config files. Use ${instead} instead.`, {
    data: { key: at, issues: [{ path: at, message: `holds a secret; use ${instead} instead` }] },
  });
}

function camelCase(key: string): string {
  // Only inside a word: `max_bytes` → `maxBytes`; `__proto__` and `_x` keep their underscores.
  return key.replace(/(?<=[A-Za-z0-9])_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `enabled: false` drops a section (the seed's way to turn a connector or the audit file off); `enabled: true` is implied. */
function applyEnabled(config: Node, source: string): void {
  const sections: [Node | undefined, string, string][] = [[config, 'audit', 'audit']];
  const connectors = config.connectors;
  if (isNode(connectors)) for (const name of Object.keys(connectors)) sections.push([connectors, name, `connectors.${name}`]);
  for (const [parent, name, path] of sections) {
    const section = parent?.[name];
    if (!isNode(section) || !('enabled' in section)) continue;
    const { enabled } = section;
    if (typeof enabled !== 'boolean') throw configError([{ path: `${path}.enabled`, message: 'must be true or false' }], source);
    delete section.enabled;
    if (!enabled && parent !== undefined) delete parent[name];
  }
}

/** `server.corsOrigins` may be one origin (`cors_origin: https://app.example.com`), a list, or false. */
function mapServer(config: Node, source: string): void {
  const server = config.server;
  if (!isNode(server) || !('corsOrigins' in server)) return;
  const cors = server.corsOrigins;
  if (cors === false || cors === null || cors === '') server.corsOrigins = [];
  else if (typeof cors === 'string') server.corsOrigins = commaList(cors);
  else if (!Array.isArray(cors)) throw configError([{ path: 'server.corsOrigins', message: 'must be an origin, a list of origins, or false' }], source);
}

const PG_HOST = /^[A-Za-z0-9._-]{1,253}$|^\[?[0-9A-Fa-f:.]{2,45}\]?$/;
const SSL_MODES = new Set(['disable', 'require', 'verify-ca', 'verify-full']);

/**
 * `connectors.postgres` given as parts (`host`, `port`, `user`, `database`, `ssl`), as the seed
 * writes it, becomes a `connectionString` without a password (the password comes from
 * `POSTGRES_PASSWORD`, see `loadGatewayConfig`). `ssl: true` is `sslmode=verify-full`: the
 * server's certificate is checked.
 */
function mapPostgres(config: Node, source: string): void {
  const connectors = config.connectors;
  const postgres = isNode(connectors) ? connectors.postgres : undefined;
  if (!isNode(postgres)) return;
  const parts = ['host', 'port', 'user', 'database', 'ssl'].filter((key) => key in postgres);
  if (parts.length === 0) return;
  const at = (key: string): string => `connectors.postgres.${key}`;
  const fail = (key: string, message: string): never => {
    throw configError([{ path: at(key), message }], source);
  };
  if (postgres.connectionString !== undefined) fail(parts[0] as string, 'give either connectionString or its parts (host, port, user, database, ssl), not both');
  if (postgres.embedded === true) fail(parts[0] as string, 'an embedded database has no host, port, user, database or ssl');
  const { host = 'localhost', port = 5432, user, database, ssl } = postgres;
  if (typeof host !== 'string' || !PG_HOST.test(host)) fail('host', 'must be a host name or an IP address');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535) fail('port', 'must be a port number (1-65535)');
  if (user !== undefined && (typeof user !== 'string' || user === '' || user.length > 63)) fail('user', 'must be a role name (1-63 characters)');
  if (database !== undefined && (typeof database !== 'string' || database === '' || database.length > 63)) fail('database', 'must be a database name (1-63 characters)');
  let sslMode: string | undefined;
  if (ssl === true) sslMode = 'verify-full';
  else if (ssl === false) sslMode = 'disable';
  else if (typeof ssl === 'string' && SSL_MODES.has(ssl)) sslMode = ssl;
  else if (ssl !== undefined) fail('ssl', 'must be true (verify the certificate), false, or one of disable, require, verify-ca, verify-full');
  const hostText = (host as string).includes(':') && !(host as string).startsWith('[') ? `[${host as string}]` : (host as string);
  const userText = user === undefined ? '' : `${encodeURIComponent(user as string)}@`;
  const query = sslMode === undefined ? '' : `?sslmode=${sslMode}`;
  postgres.connectionString = `postgres://${userText}${hostText}:${port as number}/${database === undefined ? '' : encodeURIComponent(database as string)}${query}`;
  for (const key of parts) delete postgres[key];
}

/** Renames old tool names in the policy (lists, per-tool limits, actor rules), with a warning. */
function renameTools(config: Node, source: string, warn: (message: string) => void): void {
  const policy = config.policy;
  if (!isNode(policy)) return;
  const renameList = (node: Node, key: string, path: string): void => {
    const list = node[key];
    if (!Array.isArray(list)) return;
    node[key] = list.map((entry: unknown, i) => {
      const renamed = typeof entry === 'string' ? own(RENAMED_TOOLS, entry) : undefined;
      if (renamed === undefined) return entry;
      warn(`${source}: ${path}.${i} "${entry as string}" is now "${renamed}"; read as such.`);
      return renamed;
    });
  };
  renameList(policy, 'allowTools', 'policy.allowTools');
  renameList(policy, 'denyTools', 'policy.denyTools');
  const perTool = policy.perTool;
  if (isNode(perTool)) {
    for (const [name, limits] of Object.entries(perTool)) {
      const renamed = own(RENAMED_TOOLS, name);
      if (renamed === undefined) continue;
      if (Object.hasOwn(perTool, renamed)) throw configError([{ path: `policy.perTool.${renamed}`, message: `is given twice (also as "${name}", its old name); keep one` }], source);
      warn(`${source}: policy.perTool."${name}" is now "${renamed}"; read as such.`);
      delete perTool[name];
      perTool[renamed] = limits;
    }
  }
  const actors = policy.actors;
  if (isNode(actors)) {
    for (const [actor, rules] of Object.entries(actors)) {
      if (!isNode(rules)) continue;
      renameList(rules, 'allowTools', `policy.actors.${actor}.allowTools`);
      renameList(rules, 'denyTools', `policy.actors.${actor}.denyTools`);
    }
  }
}
