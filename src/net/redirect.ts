import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError } from '../errors.js';
import { isCredentialHeader } from './headers.js';

const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
/** Headers that describe a body, dropped when a redirect drops the body. */
const BODY_HEADERS = ['content-type', 'content-encoding', 'content-language', 'content-location'];

/** The next URL when `statusCode` is a redirect with a Location, else undefined. */
export function redirectTarget(statusCode: number, headers: IncomingHttpHeaders, current: URL): URL | undefined {
  if (!REDIRECT_STATUS.has(statusCode)) return undefined;
  const location = headers.location;
  if (typeof location !== 'string' || location.length === 0) return undefined;
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    throw new GatewayError('REDIRECT_BLOCKED', `${current.origin} redirected to an invalid URL.`);
  }
  if (current.protocol === 'https:' && next.protocol === 'http:') {
    throw new GatewayError('REDIRECT_BLOCKED', `${current.origin} redirected from HTTPS to plain HTTP; downgrades are refused.`, {
      data: { from: current.origin, to: next.origin },
    });
  }
  return next;
}

/** What the next hop sends. */
export interface Hop {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | Buffer | undefined;
}

/**
 * The request for the next hop: 307/308 keep method and body; 301/302/303 become GET without
 * a body (HEAD stays HEAD). When the origin changes, credential-like headers and payment proofs are not
 * sent on (host-injected headers are added per hop, so they never follow either).
 */
export function nextHop(previous: Hop, statusCode: number, next: URL): Hop {
  const headers = { ...previous.headers };
  let { method, body } = previous;
  if (statusCode !== 307 && statusCode !== 308) {
    if (method !== 'HEAD') method = 'GET';
    body = undefined;
    for (const name of BODY_HEADERS) delete headers[name];
  }
  if (next.origin !== previous.url.origin) {
    // Every credential-like name (X-Api-Key, Private-Token…), not only Authorization and Cookie.
    for (const name of Object.keys(headers)) if (isCredentialHeader(name)) delete headers[name];
  }
  return { url: next, method, headers, body };
}
