import { domainToASCII } from 'node:url';
import { GatewayError } from '../errors.js';

/**
 * The one spelling of an origin that budgets, approvals, credential scopes, wallet order and
 * audit records key on: scheme and host lower case, IDNA (punycode) host, one trailing dot
 * removed, default port dropped. `http://API.test.:80/x` and `http://api.test/` are one origin.
 */
export function canonicalOrigin(input: string | URL): string {
  const url = typeof input === 'string' ? new URL(input) : input;
  // The URL parser already lower-cases, IDNA-encodes and drops the default port of http(s) hosts.
  if ((url.protocol === 'https:' || url.protocol === 'http:') && !url.hostname.endsWith('.')) return url.origin;
  let host = url.hostname;
  if (!host.startsWith('[')) {
    if (host.endsWith('.')) host = host.slice(0, -1);
    host = domainToASCII(host) || host.toLowerCase();
  }
  const port = url.port === '' ? '' : `:${url.port}`;
  return `${url.protocol}//${host}${port}`;
}

/**
 * Reads an origin written in configuration (`alwaysAskOrigins`, `walletOrderByOrigin`) into its
 * canonical spelling. A trailing `/` is accepted; a path, query, fragment or user name is not.
 *
 * @throws GatewayError `CONFIG_INVALID`.
 */
export function configOrigin(entry: string, option: string): string {
  let url: URL;
  try {
    url = new URL(entry);
  } catch {
    throw new GatewayError('CONFIG_INVALID', `${option}: ${JSON.stringify(entry)} is not an origin (https://host[:port]).`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '' || url.host === '') {
    throw new GatewayError('CONFIG_INVALID', `${option}: ${JSON.stringify(entry)} must be an origin only (https://host[:port]), without a path, query or user.`);
  }
  return canonicalOrigin(url);
}
