/**
 * Header rules of the guarded fetch. Names are compared in lower case.
 */
import { GatewayError } from '../errors.js';

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
// Also subscription-key (Azure APIM), functions-key, access-key, private-key.
const CREDENTIAL_NAME = /(^|[-_])(api[-_]?key|apikey|auth|authorization|token|secret|session|password|passwd|cookie|credentials?|subscription[-_]?key|functions[-_]key|access[-_]?key|private[-_]?key)([-_]|$)/;

/** True for a header an agent must not set: credentials, cookies, API keys, payment proofs. */
export function isCredentialHeader(name: string): boolean {
  return SENSITIVE_HEADERS.has(name) || CREDENTIAL_NAME.test(name);
}

/**
 * Headers that speak for the client's address or route (`X-Forwarded-For`, `X-Real-IP`,
 * `Forwarded`, `Via`, …) or that unlock cloud metadata services (`Metadata-Flavor`,
 * `Metadata`, `X-aws-ec2-metadata-token`, …). An upstream that trusts them could be fooled
 * about who is calling, or take the request for one from inside the cloud: they are refused,
 * never stripped silently, so the caller learns why.
 */
export const SPOOFING_HEADERS: ReadonlySet<string> = new Set([
  'forwarded',
  'forwarded-for',
  'via',
  'x-real-ip',
  'x-client-ip',
  'client-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'cf-connecting-ipv6',
  'cf-pseudo-ipv4',
  'fastly-client-ip',
  'akamai-client-ip',
  'x-cluster-client-ip',
  'x-originating-ip',
  'x-remote-ip',
  'x-remote-addr',
  'x-host',
  'x-proxyuser-ip',
  'x-envoy-external-address',
  'x-appengine-user-ip',
  'metadata',
  'metadata-flavor',
  'x-google-metadata-request',
  'x-identity-header',
  'x-azure-clientip',
  'x-azure-socketip',
  // Routing overrides a front server may trust as much as the client address.
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
]);

// x-forwarded, x-forwarded-for/-host/-proto/-port/-server/…, x-original-forwarded-for, x-aws-ec2-metadata-*.
const SPOOFING_NAME = /^(x-forwarded(-.*)?|x-original-forwarded-.*|x-aws-ec2-metadata-.*)$/;

/** True for a client-address, forwarding or cloud-metadata header (lower case): never sent on the agent's word. */
export function isSpoofingHeader(name: string): boolean {
  const spelled = hyphenated(name);
  return SPOOFING_HEADERS.has(spelled) || SPOOFING_NAME.test(spelled);
}

/**
 * `x_forwarded_for` → `x-forwarded-for`. CGI, WSGI, PHP and Rack map `_` and `-` to the same
 * `HTTP_X_FORWARDED_FOR`, so a name is matched with its underscores read as hyphens.
 */
export function hyphenated(name: string): string {
  return name.includes('_') ? name.replaceAll('_', '-') : name;
}

/** True for a header the client sets itself (hop-by-hop, framing), in either spelling. */
export function isTransportHeader(name: string): boolean {
  return TRANSPORT_HEADERS.has(hyphenated(name));
}

/** The refusal of a client-address, forwarding or cloud-metadata header (`VALIDATION_FAILED`, naming it). */
export function spoofingRefusal(name: string): GatewayError {
  return new GatewayError('VALIDATION_FAILED', `Header ${name} may not be sent (client-address, forwarding and cloud-metadata headers are refused).`, {
    data: { header: name },
  });
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
