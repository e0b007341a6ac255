/**
 * The stable error codes of Portcullis. Codes are part of the public contract: hosts branch
 * on them, audit records store them. New codes may be added; existing ones are never renamed.
 */
export const ERROR_CODES = [
  'CONFIG_INVALID',
  'TOOL_NOT_FOUND',
  'VALIDATION_FAILED',
  'POLICY_DENIED',
  'RATE_LIMITED',
  'TIMEOUT',
  'ABORTED',
  'RESPONSE_TOO_LARGE',
  'TOOL_FAILED',
  'AUDIT_UNAVAILABLE',
  'GATEWAY_CLOSED',
  'PATH_NOT_ALLOWED',
  'NOT_A_FILE',
  'NOT_A_DIRECTORY',
  'NOT_FOUND',
  'DOMAIN_NOT_ALLOWED',
  'SSRF_BLOCKED',
  'REDIRECT_BLOCKED',
  'UPSTREAM_ERROR',
  'SQL_NOT_ALLOWED',
  'SPEND_LIMIT_EXCEEDED',
  'APPROVAL_REQUIRED',
  'INVALID_CHALLENGE',
  'INVALID_INVOICE',
  'AMOUNT_EXCEEDS_CAP',
  'AMOUNT_MISMATCH',
  'AMOUNTLESS_INVOICE',
  'INVOICE_EXPIRED',
  'WRONG_NETWORK',
  'TOKEN_INVOICE_MISMATCH',
  'PREIMAGE_MISMATCH',
  'PAYMENT_FAILED',
  'PAYMENT_OUTCOME_UNKNOWN',
  'PAID_BUT_REJECTED',
  'CREDENTIAL_INVALID',
  'DECRYPT_FAILED',
  'MINT_NOT_ALLOWED',
  'INSUFFICIENT_FUNDS',
  'TOKEN_INVALID',
  'APPROVAL_DENIED',
  'ALREADY_PAID',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Codes that mean "the call was allowed but something went wrong while doing it". Every other
 * code is a refusal and is audited with `decision: "deny"`.
 */
const FAILURE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'TOOL_FAILED',
  'NOT_FOUND',
  'ABORTED',
  'UPSTREAM_ERROR',
  'AUDIT_UNAVAILABLE',
  'PAYMENT_FAILED',
  'PAYMENT_OUTCOME_UNKNOWN',
  'PAID_BUT_REJECTED',
  'DECRYPT_FAILED',
]);

/** True when `code` is a refusal (audited as a denial) rather than a failure. */
export function isRefusalCode(code: ErrorCode): boolean {
  return !FAILURE_CODES.has(code);
}

/** Options for {@link GatewayError}. */
export interface GatewayErrorOptions<D> {
  /** Structured, secret-free context for programs (limits, names, issue lists). */
  data?: D;
  /** The underlying error, for debugging. Never shown to the agent by the adapters. */
  cause?: unknown;
}

/**
 * The one error type Portcullis throws. `code` is stable; `message` says what happened and what
 * to do; `data` carries typed context. Messages never contain secrets or argument values.
 *
 * @example
 * ```ts
 * try {
 *   await gw.call('fs.readFile', { path: '../etc/passwd' });
 * } catch (e) {
 *   if (isGatewayError(e) && e.code === 'PATH_NOT_ALLOWED') console.error(e.message);
 * }
 * ```
 */
export class GatewayError<D = Record<string, unknown>> extends Error {
  override readonly name = 'GatewayError';
  readonly code: ErrorCode;
  readonly data: D | undefined;

  constructor(code: ErrorCode, message: string, options: GatewayErrorOptions<D> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.data = options.data;
  }

  /** A JSON form without the cause and stack: safe to hand to an agent or a log. */
  toJSON(): { name: string; code: ErrorCode; message: string; data: D | undefined } {
    return { name: this.name, code: this.code, message: this.message, data: this.data };
  }
}

/** True when `value` is a {@link GatewayError}, also across duplicated module copies. */
export function isGatewayError(value: unknown): value is GatewayError {
  if (value instanceof GatewayError) return true;
  if (!(value instanceof Error) || value.name !== 'GatewayError') return false;
  const code: unknown = (value as { code?: unknown }).code;
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code);
}
