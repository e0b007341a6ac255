import { z } from 'zod';

const MAX_TIMER_MS = 2_147_483_647;
const durationMs = z.number().int().positive().max(MAX_TIMER_MS);
const METHODS = ['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** `connectors.http`: the guarded fetch behind `gw.fetch`, `http.fetch` and `pay.fetch`. */
export const httpConnectorSchema = z.strictObject({
  /** Hosts that may be reached: `api.github.com`, `*.example.com` (labels below, not the apex), `*`. */
  allowedDomains: z.array(z.string().min(1).max(253)).default([]),
  /** Hosts never reached, even when allowed. */
  deniedDomains: z.array(z.string().min(1).max(253)).default([]),
  /** Ports allowed besides 80 and 443. */
  allowedPorts: z.array(z.number().int().min(1).max(65_535)).default([]),
  /** CIDR ranges that may be reached although not public, such as `127.0.0.1/32` for local development. */
  allowNetworks: z.array(z.string().min(1).max(64)).default([]),
  /** Methods the `http.fetch` tool may use. */
  allowedMethods: z.array(z.enum(METHODS)).min(1).default(['GET']),
  /** Limit of each hop (connect, headers, body), in ms. */
  timeoutMs: durationMs.default(30_000),
  /** Limit of the whole exchange (all hops, retries and the body), in ms. */
  totalTimeoutMs: durationMs.default(60_000),
  /** Redirects followed at most; each hop is checked in full. */
  maxRedirects: z.number().int().min(0).max(20).default(5),
  /** Largest response body, in bytes (10 MiB). The `http.fetch` tool also keeps to its `maxBytes` limit. */
  maxBytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(10 * 1024 * 1024),
  /** Retries of idempotent requests without credentials, on network errors, 5xx and 429. */
  retries: z.number().int().min(0).max(10).default(2),
  /** First backoff delay (doubled each retry, with jitter), in ms. */
  retryBaseMs: durationMs.default(200),
  /** Longest `Retry-After` honoured, in ms. */
  maxRetryAfterMs: durationMs.default(5000),
  /**
   * Headers added at send time, such as API tokens, keyed by host pattern (sent over `https://`
   * on port 443 only) or by origin (`https://api.example.com:8443`, `http://localhost:8080`:
   * exactly that scheme, host and port; an `http://` origin is warned about). Set them in code
   * from the environment; they are refused in config files.
   */
  injectHeaders: z.record(z.string().min(1), z.record(z.string().min(1), z.string())).default({}),
});

export type HttpConnectorConfig = z.output<typeof httpConnectorSchema>;
