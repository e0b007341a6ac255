/**
 * Header rules of the guarded fetch. Names are compared in lower case.
 */

/** Hop-by-hop and request-smuggling headers: the client sets these, never the caller. */
export const TRANSPORT_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'transfer-encoding',
  'connection',
  'upgrade',
  'proxy-authorization',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
  'content-length',
  'expect',
]);

/** Headers that carry credentials or money: never retried, stripped when the origin changes. */
export const SENSITIVE_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'proxy-authorization',
  'x-cashu',
  'payment',
  'x-payment',
]);

// API-key style names: x-api-key, api_key, x-auth-token, x-access-token, x-session-id, ...
const CREDENTIAL_NAME = /(^|[-_])(api[-_]?key|apikey|auth|authorization|token|secret|session|password|passwd|cookie|credentials?)([-_]|$)/;

/** True for a header an agent must not set: credentials, cookies, API keys, payment proofs. */
export function isCredentialHeader(name: string): boolean {
  return SENSITIVE_HEADERS.has(name) || CREDENTIAL_NAME.test(name);
}

/** Response headers never shown to an agent. */
export const HIDDEN_RESPONSE_HEADERS: ReadonlySet<string> = new Set(['set-cookie', 'set-cookie2']);

/** RFC 9110 token characters: a header name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** A field value: visible characters, spaces and tabs, no CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** Checks a header name and value; returns what is wrong, or undefined. */
export function headerProblem(name: string, value: string): string | undefined {
  if (!TOKEN.test(name)) return `header name ${JSON.stringify(name.slice(0, 64))} is not a valid token`;
  if (!FIELD_VALUE.test(value)) return `header ${name} has a value with control characters`;
  return undefined;
}
