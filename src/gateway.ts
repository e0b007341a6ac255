import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { hashArgs } from './audit/canonical-json.js';
import { jsonlFileSink } from './audit/file-sink.js';
import { createAuditLog, type AuditLog } from './audit/log.js';
import type { AuditRecord, AuditSink } from './audit/record.js';
import { parseConfig, TOOL_NAME, type GatewayConfig, type ResolvedConfig } from './config.js';
import { GatewayError, isGatewayError, isRefusalCode, type ErrorCode } from './errors.js';
import { createPolicy, type Policy } from './policy/engine.js';
import type { RateLimitStore } from './policy/rate-limit.js';
import type { ListedTool, ToolContext, ToolDefinition } from './tools.js';

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
  /** Where rate-limit hits are counted. @default in memory */
  rateLimitStore?: RateLimitStore;
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
  readonly policy: Policy;
  readonly audit: AuditLog;
  /** The validated configuration, defaults applied. */
  readonly config: ResolvedConfig;
  /** Aborts calls in flight, writes every audit record and releases files and sockets. */
  close(): Promise<void>;
}

interface RegisteredTool {
  tool: ToolDefinition;
  jsonSchema: Record<string, unknown>;
}

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
// Actor ids are printable, have no control characters and are bounded, as they land in logs.
const ACTOR = /^[^\p{Cc}]{1,256}$/u;

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
  const now = deps.now ?? Date.now;
  const logger: Logger = deps.logger ?? { warn: (message) => process.emitWarning(message, { code: 'PORTCULLIS' }) };
  const policy = createPolicy(resolved.policy, { now, ...(deps.rateLimitStore && { rateLimitStore: deps.rateLimitStore }) });

  const sinks: AuditSink[] = [...resolved.audit.sinks];
  if (resolved.audit.file !== undefined) {
    sinks.unshift(jsonlFileSink({ path: resolved.audit.file, fsync: resolved.audit.fsync, warn: (m) => logger.warn(m) }));
  }
  if (sinks.length === 0) logger.warn('No audit sink is configured (audit.file or audit.sinks): tool calls will not be recorded.');
  if (!resolved.policy.defaultDeny) logger.warn('policy.defaultDeny is false: every tool not explicitly denied may be called.');
  const audit = createAuditLog({
    sinks,
    flushIntervalMs: resolved.audit.flushIntervalMs,
    maxBatch: resolved.audit.maxBatch,
    maxQueue: resolved.audit.maxQueue,
    backpressureTimeoutMs: resolved.audit.backpressureTimeoutMs,
    onError: (error, sink) => logger.warn(`audit sink ${sink.name} failed: ${error instanceof Error ? error.message : String(error)}`),
  });
  try {
    await audit.open();
  } catch (error) {
    await audit.close().catch(() => undefined);
    if (isGatewayError(error)) throw error;
    throw new GatewayError('CONFIG_INVALID', `Cannot open the audit log: ${(error as Error).message}`, { cause: error });
  }

  const tools = new Map<string, RegisteredTool>();
  const inFlight = new Set<AbortController>();
  let settled: (() => void) | undefined;
  let closing: Promise<void> | undefined;

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
    tools.set(tool.name, { tool: tool as unknown as ToolDefinition, jsonSchema });
  }

  async function run(name: string, args: unknown, ctx: CallContext, controller: AbortController): Promise<{ result: unknown; bytes: number; reason: string }> {
    const entry = tools.get(name);
    if (entry === undefined) {
      throw new GatewayError('TOOL_NOT_FOUND', `No tool named ${quote(name)}. Call listTools() to see the tools you may use.`);
    }
    const { tool } = entry;
    const parsed = await tool.inputSchema.safeParseAsync(args);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), code: issue.code, message: issue.message }));
      const summary = issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`)).join('; ');
      throw new GatewayError('VALIDATION_FAILED', `Invalid arguments for ${name}: ${summary}`, { data: { issues } });
    }
    const decision = await policy.admit(name, ctx.actor, now());
    if (!decision.allowed) {
      throw new GatewayError(decision.code ?? 'POLICY_DENIED', `Call refused: ${decision.reason}.`, { data: { rule: decision.rule } });
    }
    const limits = policy.limitsFor(name);
    const timeout = setTimeout(() => controller.abort(new GatewayError('TIMEOUT', `${name} did not finish within ${limits.timeoutMs} ms.`, { data: { timeoutMs: limits.timeoutMs } })), limits.timeoutMs);
    try {
      const toolCtx: ToolContext = { signal: controller.signal, actor: ctx.actor, requestId: ctx.requestId ?? '', limits };
      const result = await raceAbort(Promise.resolve().then(() => tool.execute(parsed.data, toolCtx)), controller.signal);
      const bytes = tool.measure?.(result) ?? jsonBytes(result, name);
      if (bytes > limits.maxBytes) {
        throw new GatewayError('RESPONSE_TOO_LARGE', `The result of ${name} is ${bytes} bytes, over the limit of ${limits.maxBytes}.`, {
          data: { bytes, maxBytes: limits.maxBytes },
        });
      }
      return { result, bytes, reason: decision.reason };
    } catch (error) {
      throw toGatewayError(error, name, controller.signal);
    } finally {
      clearTimeout(timeout);
    }
  }

  async function call<T>(name: string, args?: unknown, ctx: CallContext = {}): Promise<T> {
    if (closing !== undefined) throw new GatewayError('GATEWAY_CLOSED', 'The gateway is closed; create a new one.');
    const startedMs = now();
    const contextError = checkContext(ctx);
    const requestId = contextError === undefined && ctx.requestId !== undefined ? ctx.requestId : randomUUID();
    await audit.reserve(ctx.signal);
    const controller = new AbortController();
    inFlight.add(controller);
    const onCallerAbort = (): void => controller.abort(callerAbortReason(ctx.signal?.reason, name));
    if (ctx.signal?.aborted === true) onCallerAbort();
    else ctx.signal?.addEventListener('abort', onCallerAbort, { once: true });

    let argsSha256: string | null;
    try {
      argsSha256 = hashArgs(args);
    } catch {
      argsSha256 = null;
    }
    const base = {
      timestamp: new Date(startedMs).toISOString(),
      request_id: requestId,
      tool: name.slice(0, 256),
      actor: contextError === undefined ? (ctx.actor ?? null) : null,
      args_sha256: argsSha256,
    };
    try {
      if (contextError !== undefined) throw contextError;
      if (argsSha256 === null) throw new GatewayError('VALIDATION_FAILED', `Arguments for ${name} must be plain JSON (no cycles or bigints).`);
      if (controller.signal.aborted) throw toGatewayError(controller.signal.reason, name, controller.signal);
      const { result, bytes, reason } = await run(name, args, { ...ctx, requestId }, controller);
      audit.record({ ...base, decision: 'allow', reason, duration_ms: now() - startedMs, result_bytes: bytes, error_code: null });
      return result as T;
    } catch (thrown) {
      const error = toGatewayError(thrown, name, controller.signal);
      const record: AuditRecord = {
        ...base,
        decision: isRefusalCode(error.code) ? 'deny' : 'error',
        reason: error.message,
        duration_ms: now() - startedMs,
        result_bytes: 0,
        error_code: error.code,
      };
      audit.record(record);
      throw error;
    } finally {
      ctx.signal?.removeEventListener('abort', onCallerAbort);
      inFlight.delete(controller);
      if (inFlight.size === 0) settled?.();
    }
  }

  async function close(): Promise<void> {
    closing ??= (async () => {
      if (inFlight.size > 0) {
        const done = new Promise<void>((resolve) => (settled = resolve));
        for (const controller of inFlight) controller.abort(new GatewayError('ABORTED', 'The gateway is closing.'));
        await done;
      }
      await audit.close();
    })();
    return closing;
  }

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
    policy,
    audit: { flush: () => audit.flush(), health: () => audit.health(), head: () => audit.head() },
    config: resolved,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function checkContext(ctx: CallContext): GatewayError | undefined {
  if (ctx.requestId !== undefined && (typeof ctx.requestId !== 'string' || !REQUEST_ID.test(ctx.requestId))) {
    return new GatewayError('VALIDATION_FAILED', 'ctx.requestId must be 1-128 printable ASCII characters without spaces.');
  }
  if (ctx.actor !== undefined && (typeof ctx.actor !== 'string' || !ACTOR.test(ctx.actor))) {
    return new GatewayError('VALIDATION_FAILED', 'ctx.actor must be 1-256 characters without control characters.');
  }
  return undefined;
}

/** Resolves with `work`, or rejects with the signal's reason as soon as it aborts. */
function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

function callerAbortReason(reason: unknown, name: string): GatewayError {
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new GatewayError('TIMEOUT', `${name} was stopped by the caller's timeout.`, { cause: reason });
  }
  return new GatewayError('ABORTED', `${name} was aborted by the caller.`, { cause: reason });
}

/** Maps anything a tool threw to a GatewayError; an abort wins over what the tool threw. */
function toGatewayError(error: unknown, name: string, signal: AbortSignal): GatewayError {
  if (signal.aborted && isGatewayError(signal.reason)) {
    const code: ErrorCode = signal.reason.code;
    if (!isGatewayError(error) || code !== error.code) return signal.reason;
  }
  if (isGatewayError(error)) return error;
  // The host's message may carry secrets or argument values: keep it in `cause` only.
  return new GatewayError('TOOL_FAILED', `${name} failed. See the error's cause on the host for details.`, { cause: error });
}

function jsonBytes(value: unknown, name: string): number {
  if (value === undefined) return 0;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new GatewayError('TOOL_FAILED', `${name} returned a value that is not JSON (a cycle or a bigint).`, { cause: error });
  }
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

function quote(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}
