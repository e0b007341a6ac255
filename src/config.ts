import { z } from 'zod';
import { KeyObject } from 'node:crypto';
import type pg from 'pg';
import type { AuditSink } from './audit/record.js';
import type { KeyProvider } from './store/keys.js';
import { GatewayError } from './errors.js';
import { filesystemConnectorSchema } from './fs/config.js';
import { httpConnectorSchema } from './net/config.js';
import { postgresConnectorSchema } from './postgres/config.js';
import { argumentRulesSchema } from './policy/rules/schema.js';
import { crossFieldIssues, type ConfigIssue } from './config/checks.js';
import { didYouMean, nearest } from './config/nearest.js';
import { own, RENAMED_KEYS } from './config/renames.js';

/** Largest delay `setTimeout` honours, in ms (about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** A tool name: dotted words, such as `fs.readFile` or `acme.search_issues`. */
export const TOOL_NAME = /^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/;
/** A tool glob: a tool name that may also contain `*` and `?`. */
const TOOL_GLOB = /^[A-Za-z0-9_.*?-]+$/;

const toolGlob = z.string().regex(TOOL_GLOB, 'must be a tool name or glob (letters, digits, ".", "_", "-", "*", "?")');
const durationMs = z.number().int().positive().max(MAX_TIMER_MS);
const byteCount = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const sats = z.number().int().nonnegative().max(2_100_000_000_000_000);

const rateLimitSchema = z.strictObject({
  /** Calls allowed in one window. */
  maxCalls: z.number().int().nonnegative().max(1_000_000),
  /** Window length, in ms. */
  windowMs: durationMs,
});

const perToolSchema = z.strictObject({
  timeoutMs: durationMs.optional(),
  maxBytes: byteCount.optional(),
  rateLimit: rateLimitSchema.optional(),
});

const actorSchema = z.strictObject({
  allowTools: z.array(toolGlob).optional(),
  denyTools: z.array(toolGlob).optional(),
  rateLimit: rateLimitSchema.optional(),
});

const policySchema = z.strictObject({
  /** Refuse every tool not matched by `allowTools`. Keep it on in production. */
  defaultDeny: z.boolean().default(true),
  /** Globs of tools that may be called, such as `fs.*`. */
  allowTools: z.array(toolGlob).default([]),
  /** Globs of tools that may never be called; a deny always beats an allow. */
  denyTools: z.array(toolGlob).default([]),
  /** Timeout of every call without a per-tool override, in ms. */
  globalTimeoutMs: durationMs.default(30_000),
  /** Largest result of every call without a per-tool override, in bytes (10 MiB). */
  globalMaxBytes: byteCount.default(10 * 1024 * 1024),
  /** Limits per tool name. These never allow a tool by themselves. */
  perTool: z.record(z.string().regex(TOOL_NAME, 'must be a tool name'), perToolSchema).default({}),
  /** Rules per actor (`ctx.actor`): they only narrow the global lists. */
  actors: z.record(z.string().min(1), actorSchema).default({}),
  /** Argument rules on canonical values, per tool and actor (see the README); a tool with rules is default-deny. */
  rules: argumentRulesSchema.default([]),
});

const sinkSchema = z.custom<AuditSink>(
  (value) => typeof value === 'object' && value !== null && typeof (value as AuditSink).write === 'function',
  'must be an audit sink ({ name, write(records) })',
);

const auditSchema = z.strictObject({
  /** JSONL file for the hash-chained audit log (created 0600). */
  file: z.string().min(1).optional(),
  /** Extra sinks of the host's own. */
  sinks: z.array(sinkSchema).default([]),
  /** How often queued records are written, in ms. */
  flushIntervalMs: durationMs.default(100),
  /** Records per batch at most. */
  maxBatch: z.number().int().positive().max(100_000).default(1000),
  /** Records queued at most before calls wait (back-pressure). */
  maxQueue: z.number().int().positive().max(10_000_000).default(10_000),
  /** How long a call waits for room in a full audit queue, in ms. */
  backpressureTimeoutMs: durationMs.default(5000),
  /** `fdatasync` the audit file after each batch. */
  fsync: z.boolean().default(true),
  /**
   * `'buffered'`: a call returns before its record is written (within `flushIntervalMs`).
   * `'sync'`: a call resolves once its record is written and fdatasync'ed; concurrent calls share one sync.
   */
  durability: z.enum(['buffered', 'sync']).default('buffered'),
  /** Keys the audit file's chain (HMAC-SHA256 under a key derived from this provider's key). */
  key: z.custom<KeyProvider>((value) => typeof (value as KeyProvider | undefined)?.getKey === 'function', 'must be a key provider ({ getKey() })').optional(),
  /** Ed25519 private key (KeyObject or PKCS#8 PEM) signing the head of every write to the audit file. */
  signingKey: z.custom<KeyObject | string>((value) => typeof value === 'string' || value instanceof KeyObject, 'must be an Ed25519 private key (KeyObject or PEM)').optional(),
});

const paymentsSchema = z.strictObject({
  /** Largest single payment made without a person's approval, in sats. */
  maxAutoPaySats: sats.default(1000),
  /** Most spent in any rolling 60 s, fees included, in sats. */
  maxSpendPerMinuteSats: sats.default(10_000),
  /** Largest routing fee reserved for one payment, in sats (counted in the budget). */
  maxFeeSats: sats.default(10),
  /** Most spent per origin in any rolling 60 s, in sats. */
  maxSpendPerOriginPerMinuteSats: sats.optional(),
  /** Most spent per actor in any rolling 60 s, in sats. */
  maxSpendPerActorPerMinuteSats: sats.optional(),
  /** Most spent in any rolling 24 h, in sats. */
  maxSpendPerDaySats: sats.optional(),
  /** The Lightning network invoices must be for. */
  network: z.enum(['bitcoin', 'testnet', 'signet', 'regtest']).default('bitcoin'),
  /** How long the wallet may take before a payment's outcome counts as unknown, in ms. */
  paymentTimeoutMs: durationMs.default(60_000),
  /** Invoices expiring sooner than this are refused, in ms. */
  expiryMarginMs: durationMs.default(30_000),
  /** Origins (`https://api.example.com`) whose every payment waits for the host's approve(), whatever the amount. */
  alwaysAskOrigins: z.array(z.string().url()).default([]),
  /**
   * How long the host's approve() may take, in ms. Below the default call timeout (30 s), and a
   * call's own deadline bounds the wait anyway, so a payment is never approved after its caller
   * was told the call timed out.
   */
  approvalTimeoutMs: durationMs.default(25_000),
  /** With both a Lightning and a Cashu wallet: which pays a 402 that offers both. */
  walletOrder: z.enum(['lightning-first', 'cashu-first']).default('lightning-first'),
  /** `walletOrder` per origin (`https://api.example.com`). */
  walletOrderByOrigin: z.record(z.string().url(), z.enum(['lightning-first', 'cashu-first'])).default({}),
  /** Methods the `pay.fetch` tool may use. */
  allowedMethods: z.array(z.enum(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'])).min(1).default(['GET', 'POST']),
  /** Directory of the encrypted credential store (paid credentials and pending payments); memory only when unset. */
  credentialStoreDir: z.string().min(1).optional(),
  /** The store must lie inside this directory. @default the home directory */
  credentialStoreConfineTo: z.string().min(1).optional(),
});

const connectorsSchema = z.strictObject({
  /** Outbound HTTP: `gw.fetch` and the `http.fetch` tool (registered when this is present). */
  http: httpConnectorSchema.optional(),
  /** Read-only files: the `fs.readFile`, `fs.listDir` and `fs.stat` tools (registered when this is present). */
  filesystem: filesystemConnectorSchema.optional(),
  /** Read-only SQL: the `db.query` and `db.schema` tools (registered when this is present). */
  postgres: postgresConnectorSchema.optional(),
});

const serverSchema = z.strictObject({
  /** How `portcullis serve` speaks MCP: over stdin/stdout, or the hardened streamable-HTTP endpoint. @default 'stdio' */
  transport: z.enum(['stdio', 'http']).default('stdio'),
  /** Address the HTTP transport binds; anything but loopback is warned about. @default '127.0.0.1' */
  host: z.string().min(1).default('127.0.0.1'),
  /** Port of the HTTP transport. @default 3000 */
  port: z.number().int().min(0).max(65_535).default(3000),
  /** Origins answered with CORS headers on the HTTP transport. @default none (CORS off) */
  corsOrigins: z.array(z.string().min(1)).default([]),
  /** Server name announced to MCP clients. @default 'portcullis' */
  name: z.string().min(1).default('portcullis'),
  /**
   * How tools are named to MCP clients: `'underscore'` shows `fs.readFile` as `fs_readFile`, for
   * clients that only accept `[a-zA-Z0-9_-]{1,64}` (calls are mapped back). @default 'dotted'
   */
  toolNames: z.enum(['dotted', 'underscore']).default('dotted'),
});

const sharedStateSchema = z
  .strictObject({
    /** PostgreSQL connection string; the gateway makes its own pool and ends it on close. */
    connectionString: z.string().min(1).optional(),
    /** Your own `pg.Pool`; the gateway uses it and never ends it. */
    pool: z
      .custom<pg.Pool>(
        (value) => typeof value === 'object' && value !== null && ['connect', 'query', 'end'].every((m) => typeof (value as Record<string, unknown>)[m] === 'function'),
        'must be a pg.Pool',
      )
      .optional(),
    /** Schema of the tables, created at start. @default 'portcullis' */
    schema: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier').optional(),
    /** Whose budget and rate limits: every gateway with the same owner shares them. @default 'default' */
    owner: z.string().min(1).max(256).optional(),
    /** The audit chain written to; gateways sharing a stream extend one chain. @default 'default' */
    auditStream: z.string().min(1).max(256).optional(),
  })
  .refine((value) => (value.connectionString === undefined) !== (value.pool === undefined), 'set exactly one of connectionString and pool');

/** The gateway configuration schema. Unknown keys are refused, so typos fail loudly. */
export const gatewayConfigSchema = z.strictObject({
  policy: policySchema.default(() => policySchema.parse({})),
  audit: auditSchema.default(() => auditSchema.parse({})),
  payments: paymentsSchema.default(() => paymentsSchema.parse({})),
  connectors: connectorsSchema.default({}),
  /** How `portcullis serve` exposes the gateway (ignored by `createGateway` itself). */
  server: serverSchema.default(() => serverSchema.parse({})),
  /**
   * Spend, credentials and pending payments, audit and rate limits on PostgreSQL, shared by
   * every gateway with the same `owner` (a fleet). Needs `deps.keyProvider`.
   */
  sharedState: sharedStateSchema.optional(),
});

/** What a host writes: every field optional, documented defaults filled in. */
export type GatewayConfig = z.input<typeof gatewayConfigSchema>;
/** The configuration with every default applied. */
export type ResolvedConfig = z.output<typeof gatewayConfigSchema>;

/**
 * Validates a configuration and fills in the defaults.
 *
 * @throws GatewayError `CONFIG_INVALID`, naming the offending key and, for a misspelt key,
 *   the nearest known one; `data.issues` lists each problem as `{ path, message }`.
 */
export function parseConfig(input: unknown): ResolvedConfig {
  const result = gatewayConfigSchema.safeParse(input ?? {});
  const issues = result.success ? crossFieldIssues(result.data) : result.error.issues.flatMap(describeIssue);
  if (result.success && issues.length === 0) return result.data;
  throw configError(issues);
}

/** The `CONFIG_INVALID` error for a list of issues: one human message, the issues as data. */
export function configError(issues: readonly ConfigIssue[], prefix = 'Invalid Portcullis configuration', root = 'config.'): GatewayError {
  // `config.x.y is not a known option`, `config.x.y: must be …`
  const text = issues.map((issue) => (issue.path === '' ? issue.message : `${root}${issue.path}${issue.message.startsWith('is ') || root === '' ? ' ' : ': '}${issue.message}`));
  return new GatewayError('CONFIG_INVALID', `${prefix}: ${text.join('; ')}`, { data: { issues: [...issues] } });
}

function describeIssue(issue: z.core.$ZodIssue): ConfigIssue[] {
  const at = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    // The seed's old spellings are candidates too: `http_prot` is a typo of `http_port`, now `port`.
    const renamed = own(RENAMED_KEYS, at) ?? {};
    const known = [...knownKeysAt(issue.path), ...Object.keys(renamed)];
    return issue.keys.map((key) => {
      const hint = nearest(key, known);
      const now = hint === undefined ? undefined : own(renamed, hint);
      return {
        path: at === '' ? key : `${at}.${key}`,
        message: `is not a known option${now === undefined ? didYouMean(hint) : ` (did you mean "${now}", the seed's "${hint}"?)`}`,
      };
    });
  }
  return [{ path: at, message: issue.message }];
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = gatewayConfigSchema;
  for (const key of path) {
    schema = unwrap(schema);
    if (schema instanceof z.ZodObject) {
      const next = (schema.shape as Record<string, z.ZodType>)[String(key)];
      if (next === undefined) return [];
      schema = next;
    } else if (schema instanceof z.ZodRecord) {
      schema = schema.valueType as z.ZodType;
    } else {
      return [];
    }
  }
  schema = unwrap(schema);
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodDefault || current instanceof z.ZodOptional) {
    current = current.unwrap() as z.ZodType;
  }
  return current;
}
