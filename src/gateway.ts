import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { hashArgs } from './audit/canonical-json.js';
import { jsonlFileSink } from './audit/file-sink.js';
import { createAuditLog, type AuditLog } from './audit/log.js';
import type { AuditRecord, AuditSink } from './audit/record.js';
import { CallRun } from './call-run.js';
import { auditRecord, callerAbortReason, checkContext, isPromiseLike, jsonBytes, quote, validate, validationError } from './call-steps.js';
import { parseConfig, TOOL_NAME, type GatewayConfig, type ResolvedConfig } from './config.js';
import { GatewayError, isGatewayError, isRefusalCode } from './errors.js';
import { createPolicy, type Policy, type ToolLimits } from './policy/engine.js';
import type { RateLimitStore } from './policy/rate-limit.js';
import { createArgumentRules, type ArgumentRulesApi, type CallApprover } from './policy/rules/enforce.js';
import type { ListedTool, ToolDefinition } from './tools.js';
import { openConnectors } from './connectors.js';
import { configWarnings, toolSetChecker } from './config/tool-checks.js';
import type { FilesystemHooks } from './fs/connector.js';
import type { EmbeddedDatabase } from './postgres/embedded-executor.js';
import type { GuardedAgentOptions } from './net/agent.js';
import type { GuardedFetch } from './net/fetch.js';
import { createSpendTracker } from './pay/spend-tracker.js';
import type { ApprovalContext, ApprovalRequest, L402Payer, PaymentEvent } from './pay/l402-payer.js';
import type { Wallet } from './pay/wallet.js';
import type { CashuWallet } from './pay/wallets/cashu/wallet.js';
import type { GatewaySpend } from './payments.js';
import { openPaymentsWhenNeeded, type OpenedPayments } from './payments-entry.js';
import type { GatewaySharedState } from './shared-state/gateway-state.js';
import type { CredentialBackend } from './store/credential-store.js';
import type { KeyProvider } from './store/keys.js';
import type { Resolver } from './net/resolver.js';
import { createTelemetry } from './telemetry/otel.js';

/** Per-call context. */
export interface CallContext {
  /** Who is calling (an agent id, a user id); recorded in the audit log and used by actor rules. */
  actor?: string | undefined;
  /** Aborts the call; the tool's work is stopped through its own signal. */
  signal?: AbortSignal | undefined;
  /** Correlation id for the audit log (printable ASCII, at most 128 characters). Default: a UUID. */
  requestId?: string | undefined;
}

/** Where Portcullis reports things a person should know (never secrets, never stdout). */
export interface Logger {
  warn(message: string): void;
}

/** Injected dependencies, for tests and hosts. */
export interface GatewayDeps {
  /** Clock, in ms since the epoch. @default Date.now */
  now?: () => number;
  /** @default warnings via `process.emitWarning` (stderr) */
  logger?: Logger;
  /** Where rate-limit hits are counted; wins over `sharedState`'s. @default in memory (PostgreSQL with `sharedState`) */
  rateLimitStore?: RateLimitStore;
  /** DNS resolver of the network guard; every address it returns is validated. @default the system's */
  resolver?: Resolver;
  /**
   * Opens sockets once the guard has validated the address (undici connector), for tests and
   * instrumentation. It must connect to exactly the address it is given (`hostname`, an IP):
   * the guard checks the socket's `remoteAddress` and refuses any other with `SSRF_BLOCKED`.
   * With `tls`, it is asked for plain TCP only and the guard adds TLS (see `GuardedAgentOptions.dial`).
   */
  dial?: GuardedAgentOptions['dial'];
  /** TLS options of outbound connections, such as `ca` for a private CA; used with a custom `dial` too. */
  tls?: GuardedAgentOptions['tls'];
  /** Hooks of the filesystem connector (a hook between check and open, the base of relative roots). */
  fsHooks?: FilesystemHooks;
  /** With `connectors.postgres.embedded`: a seeded PGlite instance, copied into the worker at the first query (later changes to it are not seen; default: a fresh in-memory database). */
  embeddedPostgres?: EmbeddedDatabase;
  /** The Lightning wallet `gw.pay` and the `pay.fetch` tool pay with (`nwcWallet(...)` or your own). */
  wallet?: Wallet;
  /** The Cashu ecash wallet (`cashuWallet(...)`): pays `X-Cashu` (NUT-24) offers, and invoices by melting when there is no `wallet`. */
  cashu?: CashuWallet;
  /** Asked about payments above `maxAutoPaySats` (a person in the loop), with the call's signal; without it they are refused. */
  approve?: (request: ApprovalRequest, context: ApprovalContext) => Promise<boolean>;
  /** Asked about tool calls that an argument rule with `effect: 'approve'` matched; without it (and no mandate) they are refused with `APPROVAL_REQUIRED`. */
  approveCall?: CallApprover;
  /**
   * Where the credential store's key comes from. @default the OS keychain, else a 0600 key file.
   * Required with `sharedState` (`keyFile(path)`, `envKey()`, `injectedKey(key)`): every process
   * of a fleet must use the same key, so a missing key is `CONFIG_INVALID`, never a new one.
   */
  keyProvider?: KeyProvider;
  /** `false`: no OpenTelemetry spans or metrics even with `@opentelemetry/api` and an SDK registered (register it before createGateway). @default true */
  telemetry?: boolean;
}

/** A running gateway. */
export interface Gateway extends AsyncDisposable {
  /**
   * Runs a tool through the pipeline: validate → policy → execute within limits → audit.
   *
   * @returns the tool's result.
   * @throws GatewayError `TOOL_NOT_FOUND`, `VALIDATION_FAILED`, `POLICY_DENIED`,
   *   `RATE_LIMITED`, `TIMEOUT`, `ABORTED`, `RESPONSE_TOO_LARGE`, `TOOL_FAILED`,
   *   `AUDIT_UNAVAILABLE`, `GATEWAY_CLOSED`, or a connector's own refusal code.
   */
  call<T = unknown>(tool: string, args?: unknown, ctx?: CallContext): Promise<T>;
  /**
   * Adds a host tool; it goes through the same pipeline as the built-in ones and is still
   * subject to the policy (register does not allow it).
   *
   * @throws GatewayError `CONFIG_INVALID` for a bad or duplicate name.
   */
  register<S extends z.ZodType, R>(tool: ToolDefinition<S, R>): void;
  /** The tools the policy allows (for `actor`, when given), with their schemas. */
  listTools(ctx?: Pick<CallContext, 'actor'>): ListedTool[];
  /** The tool-level policy and the argument rules (`explain`, mandates, `setRules`). */
  readonly policy: Policy & ArgumentRulesApi;
  readonly audit: AuditLog;
  /**
   * The guarded fetch, configured by `connectors.http` (with no such section it refuses every
   * host). For the host's own requests: they are not audited as tool calls.
   */
  readonly fetch: GuardedFetch;
  /**
   * The budget, configured by `payments` (per-payment cap, rolling budgets): in memory, or
   * shared by the fleet on PostgreSQL with `sharedState`. Await its answers in both cases.
   */
  readonly spend: GatewaySpend;
  /** The L402 payer: `gw.pay.fetch(url, init?, { maxAmountSats? })` pays a 402 within the budgets. */
  readonly pay: L402Payer;
  /** The encrypted credential store: the PostgreSQL one with `sharedState`, else the file one when `payments.credentialStoreDir` is set. */
  readonly credentials: CredentialBackend | undefined;
  /** The validated configuration, defaults applied. */
  readonly config: ResolvedConfig;
  /** Aborts calls in flight, writes every audit record and releases files and sockets (and the shared state's pool when the gateway made it). */
  close(): Promise<void>;
}

interface RegisteredTool {
  tool: ToolDefinition;
  jsonSchema: Record<string, unknown>;
  /** Compiled once at registration: limits do not change while the gateway runs. */
  limits: ToolLimits;
}

/**
 * Creates a gateway: validates and compiles the configuration, opens the audit sinks, and
 * registers the built-in tools.
 *
 * @throws GatewayError `CONFIG_INVALID` when the configuration is invalid or an audit sink
 *   cannot be opened.
 * @example
 * ```ts
 * await using gw = await createGateway({ policy: { allowTools: ['demo.*'] }, audit: { file: './audit.jsonl' } });
 * const out = await gw.call('demo.echo', { text: 'hi' }, { actor: 'agent-1' });
 * ```
 */
export async function createGateway(config: GatewayConfig = {}, deps: GatewayDeps = {}): Promise<Gateway> {
  const resolved = parseConfig(config);
  // OpenTelemetry, when `@opentelemetry/api` is installed and an SDK is registered; else nothing per call.
  const telemetry = deps.telemetry === false ? undefined : await createTelemetry();
  const now = deps.now ?? Date.now;
  const logger: Logger = deps.logger ?? { warn: (message) => process.emitWarning(message, { code: 'PORTCULLIS' }) };
  // sharedState: pg and the PostgreSQL modules are loaded only here, never by the root entry.
  const shared: GatewaySharedState | undefined =
    resolved.sharedState === undefined
      ? undefined
      : await (await import('./shared-state/gateway-state.js')).openGatewaySharedState(resolved.sharedState, resolved.payments, {
          keyProvider: deps.keyProvider,
          warn: (m) => logger.warn(m),
        });
  const rateLimitStore = deps.rateLimitStore ?? shared?.rateLimitStore;
  const policy = createPolicy(resolved.policy, { now, ...(rateLimitStore && { rateLimitStore }) });

  const spend: GatewaySpend = shared?.spend ?? createSpendTracker({ ...resolved.payments, now });
  let connectors: Awaited<ReturnType<typeof openConnectors>>;
  try {
    connectors = await openConnectors(resolved.connectors, deps, (m) => logger.warn(m));
  } catch (error) {
    await shared?.close().catch(() => undefined);
    throw error;
  }
  const sinks: AuditSink[] = [...resolved.audit.sinks];
  if (shared !== undefined) sinks.push(shared.auditSink);
  if (resolved.audit.file !== undefined) {
    const { file: path, fsync, key, signingKey } = resolved.audit;
    sinks.unshift(jsonlFileSink({ path, fsync, key, signingKey, warn: (m) => logger.warn(m) }));
  }
  if (sinks.length === 0) logger.warn('No audit sink is configured (audit.file or audit.sinks): tool calls will not be recorded.');
  if (!resolved.policy.defaultDeny) logger.warn('policy.defaultDeny is false: every tool not explicitly denied may be called.');
  const audit = createAuditLog({
    sinks,
    flushIntervalMs: resolved.audit.flushIntervalMs,
    maxBatch: resolved.audit.maxBatch,
    maxQueue: resolved.audit.maxQueue,
    backpressureTimeoutMs: resolved.audit.backpressureTimeoutMs,
    durability: resolved.audit.durability,
    onError: (error, sink) => logger.warn(`audit sink ${sink.name} failed: ${error instanceof Error ? error.message : String(error)}`),
  });
  try {
    await audit.open();
  } catch (error) {
    await Promise.all([audit.close().catch(() => undefined), connectors.close()]);
    await shared?.close().catch(() => undefined);
    if (isGatewayError(error)) throw error;
    throw new GatewayError('CONFIG_INVALID', `Cannot open the audit log: ${(error as Error).message}`, { cause: error });
  }

  // Payment events are audited as records of their own (amounts, fee, hash, origin; never a
  // preimage or token). They are recorded even when the queue is full: money must not go unrecorded.
  const recordPayment = (record: AuditRecord, event: PaymentEvent): void => {
    audit.tryReserve();
    audit.record(record);
    telemetry?.payment(event);
  };
  let payments: OpenedPayments;
  try {
    payments = await openPaymentsWhenNeeded(
      resolved.payments,
      { fetch: connectors.fetch, spend, credentials: shared?.credentials, now, warn: (m) => logger.warn(m), onRecord: recordPayment },
      deps,
      deps.wallet !== undefined || deps.cashu !== undefined || resolved.payments.credentialStoreDir !== undefined || shared !== undefined,
    );
  } catch (error) {
    await Promise.all([audit.close().catch(() => undefined), connectors.close()]);
    await shared?.close().catch(() => undefined);
    throw error;
  }

  const tools = new Map<string, RegisteredTool>();
  const inFlight = new Set<CallRun>();
  let settled: (() => void) | undefined;
  let closing: Promise<void> | undefined;
  // Policy entries matching no tool are warned about once the built-in tools are in, and on register().
  const toolCheck = toolSetChecker(resolved, (m) => logger.warn(m));

  function register<S extends z.ZodType, R>(tool: ToolDefinition<S, R>): void {
    if (closing !== undefined) throw new GatewayError('GATEWAY_CLOSED', 'The gateway is closed.');
    if (typeof tool.name !== 'string' || !TOOL_NAME.test(tool.name)) {
      throw new GatewayError('CONFIG_INVALID', `Tool name ${JSON.stringify(tool.name)} is invalid: use dotted words such as "acme.search".`);
    }
    if (tools.has(tool.name)) throw new GatewayError('CONFIG_INVALID', `A tool named "${tool.name}" is already registered.`);
    if (!(tool.inputSchema instanceof z.ZodType) || typeof tool.execute !== 'function') {
      throw new GatewayError('CONFIG_INVALID', `Tool "${tool.name}" needs a zod inputSchema and an execute function.`);
    }
    const jsonSchema = z.toJSONSchema(tool.inputSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    tools.set(tool.name, { tool, jsonSchema, limits: policy.limitsFor(tool.name) });
    toolCheck.registered(tool.name);
  }

  /** The result's size in bytes, checked against the tool's limit. */
  function measured(entry: RegisteredTool, name: string, result: unknown): number {
    const bytes = entry.tool.measure?.(result) ?? jsonBytes(result, name);
    const { maxBytes } = entry.limits;
    if (bytes > maxBytes) {
      throw new GatewayError('RESPONSE_TOO_LARGE', `The result of ${name} is ${bytes} bytes, over the limit of ${maxBytes}.`, {
        data: { bytes, maxBytes },
      });
    }
    return bytes;
  }

  // One async function for the whole pipeline: each extra await level costs a promise and a
  // microtask on every call, and this is the hot path.
  async function call<T>(name: string, args?: unknown, ctx: CallContext = {}): Promise<T> {
    if (closing !== undefined) throw new GatewayError('GATEWAY_CLOSED', 'The gateway is closed; create a new one.');
    const startedMs = now();
    const contextError = checkContext(ctx);
    const requestId = contextError === undefined && ctx.requestId !== undefined ? ctx.requestId : randomUUID();
    if (!audit.tryReserve()) await audit.reserve(ctx.signal);
    const actor = contextError === undefined ? ctx.actor : undefined;
    const entry = tools.get(name);
    const traced = telemetry?.start(name, entry !== undefined, actor); // OpenTelemetry: a span per audited call
    const run = new CallRun(actor, requestId);
    inFlight.add(run);
    const callerSignal = ctx.signal;
    const onCallerAbort = callerSignal === undefined ? undefined : (): void => run.stop(callerAbortReason(callerSignal.reason, name));
    if (onCallerAbort !== undefined) {
      if (callerSignal?.aborted === true) onCallerAbort();
      else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    }
    let argsSha256: string | null;
    try {
      argsSha256 = hashArgs(args);
    } catch {
      argsSha256 = null;
    }
    let record: AuditRecord;
    try {
      if (contextError !== undefined) throw contextError;
      if (argsSha256 === null) throw new GatewayError('VALIDATION_FAILED', `Arguments for ${name} must be plain JSON (no cycles or bigints).`);
      if (entry === undefined) {
        throw new GatewayError('TOOL_NOT_FOUND', `No tool named ${quote(name)}. Call listTools() to see the tools you may use.`);
      }
      let parsed = validate(entry.tool.inputSchema, args);
      if (parsed instanceof Promise) parsed = await parsed;
      if (!parsed.success) throw validationError(name, parsed.error);
      let decision = policy.admit(name, actor, startedMs);
      if (decision instanceof Promise) decision = await decision;
      if (!decision.allowed) {
        throw new GatewayError(decision.code ?? 'POLICY_DENIED', `Call refused: ${decision.reason}.`, { data: { rule: decision.rule } });
      }
      run.limits = entry.limits;
      const gate = argumentRules.gate(entry.tool, parsed.data, run);
      if (gate !== undefined) await gate;
      run.throwIfStopped();
      let result = traced === undefined ? entry.tool.execute(parsed.data, run) : traced.run(entry.tool, parsed.data, run);
      // A synchronous tool has already finished: only a promise needs a timer and a race.
      if (isPromiseLike(result)) result = await run.race(result, name, entry.limits.timeoutMs);
      const bytes = measured(entry, name, result);
      record = auditRecord(startedMs, requestId, name, actor, argsSha256, 'allow', decision.reason, bytes, null);
      return result as T;
    } catch (thrown) {
      const error = run.explain(thrown, name);
      record = auditRecord(startedMs, requestId, name, actor, argsSha256, isRefusalCode(error.code) ? 'deny' : 'error', error.message, 0, error.code);
      throw error;
    } finally {
      // Exactly one record per call, whichever way it ended.
      record!.duration_ms = now() - startedMs;
      audit.record(record!);
      traced?.end(record!);
      if (onCallerAbort !== undefined) callerSignal?.removeEventListener('abort', onCallerAbort);
      inFlight.delete(run);
      if (inFlight.size === 0) settled?.();
      // audit.durability 'sync': resolve once the record is on disk (undefined when buffered).
      const committed = audit.commit();
      if (committed !== undefined) await committed;
    }
  }

  async function close(): Promise<void> {
    closing ??= (async () => {
      if (inFlight.size > 0) {
        const done = new Promise<void>((resolve) => (settled = resolve));
        for (const run of inFlight) run.stop(new GatewayError('ABORTED', 'The gateway is closing.'));
        await done;
      }
      await Promise.all([audit.close(), connectors.close()]);
      await shared?.close(); // after the audit log: its last records go to the shared sink
    })();
    return closing;
  }

  const argumentRules = createArgumentRules(resolved.policy.rules, {
    now,
    approveCall: deps.approveCall,
    tool: (name) => tools.get(name)?.tool,
    decideTool: (name, actor) => policy.decide(name, actor),
  });

  for (const tool of connectors.tools) register(tool);
  for (const tool of payments.tools) register(tool);
  toolCheck.created(tools.keys());
  for (const message of configWarnings(resolved)) logger.warn(message);

  return {
    call,
    register,
    listTools(ctx = {}) {
      const listed: ListedTool[] = [];
      for (const { tool, jsonSchema } of tools.values()) {
        if (!policy.decide(tool.name, ctx.actor).allowed) continue;
        listed.push({ name: tool.name, description: tool.description, inputSchema: tool.inputSchema, jsonSchema });
      }
      return listed;
    },
    policy: Object.defineProperties(policy, Object.getOwnPropertyDescriptors(argumentRules.api)) as Policy & ArgumentRulesApi,
    fetch: connectors.fetch,
    spend,
    pay: payments.pay,
    credentials: payments.credentials,
    audit: { flush: () => audit.flush(), health: () => audit.health(), head: () => audit.head() },
    config: resolved,
    close,
    [Symbol.asyncDispose]: close,
  };
}
