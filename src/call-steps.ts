import { z } from 'zod';
import type { AuditDecision, AuditRecord } from './audit/record.js';
import { GatewayError, type ErrorCode } from './errors.js';

/**
 * The steps of `gw.call` that need none of the gateway's state: checking the call's context,
 * validating arguments, building the audit record, measuring a result.
 */

const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;
// Actor ids are printable, have no control characters and are bounded, as they land in logs.
const ACTOR = /^[^\p{Cc}]{1,256}$/u;

export function checkContext(ctx: { requestId?: unknown; actor?: unknown }): GatewayError | undefined {
  if (ctx.requestId !== undefined && (typeof ctx.requestId !== 'string' || !REQUEST_ID.test(ctx.requestId))) {
    return new GatewayError('VALIDATION_FAILED', 'ctx.requestId must be 1-128 printable ASCII characters without spaces.');
  }
  if (ctx.actor !== undefined && (typeof ctx.actor !== 'string' || !ACTOR.test(ctx.actor))) {
    return new GatewayError('VALIDATION_FAILED', 'ctx.actor must be 1-256 characters without control characters.');
  }
  return undefined;
}

/** Validates synchronously, falling back to async parsing for schemas with async refinements. */
export function validate<S extends z.ZodType>(schema: S, args: unknown): z.ZodSafeParseResult<z.output<S>> | Promise<z.ZodSafeParseResult<z.output<S>>> {
  try {
    return schema.safeParse(args);
  } catch (error) {
    if (error instanceof z.core.$ZodAsyncError) return schema.safeParseAsync(args);
    throw error;
  }
}

export function callerAbortReason(reason: unknown, name: string): GatewayError {
  if (reason instanceof Error && reason.name === 'TimeoutError') {
    return new GatewayError('TIMEOUT', `${name} was stopped by the caller's timeout.`, { cause: reason });
  }
  return new GatewayError('ABORTED', `${name} was aborted by the caller.`, { cause: reason });
}

// Calls come in bursts within one millisecond: format each millisecond's timestamp once.
let lastIsoMs = Number.NaN;
let lastIso = '';
function isoTime(ms: number): string {
  if (ms !== lastIsoMs) {
    lastIso = new Date(ms).toISOString();
    lastIsoMs = ms;
  }
  return lastIso;
}

export function auditRecord(
  startedMs: number,
  requestId: string,
  name: string,
  actor: string | undefined,
  argsSha256: string | null,
  decision: AuditDecision,
  reason: string,
  bytes: number,
  code: ErrorCode | null,
): AuditRecord {
  return {
    timestamp: isoTime(startedMs),
    request_id: requestId,
    tool: name.length > 256 ? name.slice(0, 256) : name,
    actor: actor ?? null,
    args_sha256: argsSha256,
    decision,
    reason,
    duration_ms: 0,
    result_bytes: bytes,
    error_code: code,
  };
}

export function validationError(name: string, error: z.ZodError): GatewayError {
  const issues = error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), code: issue.code, message: issue.message }));
  const summary = issues.map((issue) => (issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`)).join('; ');
  return new GatewayError('VALIDATION_FAILED', `Invalid arguments for ${name}: ${summary}`, { data: { issues } });
}

export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

export function jsonBytes(value: unknown, name: string): number {
  if (value === undefined) return 0;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new GatewayError('TOOL_FAILED', `${name} returned a value that is not JSON (a cycle or a bigint).`, { cause: error });
  }
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

export function quote(name: string): string {
  return JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name);
}
