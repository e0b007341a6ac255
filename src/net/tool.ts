import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { defineTool, type ToolContext, type ToolDefinition } from '../tools.js';
import type { HttpConnectorConfig } from './config.js';
import type { GuardedFetch } from './fetch.js';
import { parseAgentUrl, urlFacts } from '../policy/rules/url-facts.js';
import { headerProblem, HIDDEN_RESPONSE_HEADERS, isCredentialHeader, isSpoofingHeader, isTransportHeader, spoofingRefusal, TRANSPORT_HEADERS } from './headers.js';

/** What `http.fetch` returns to the agent. */
export interface HttpFetchResult {
  status: number;
  /** The final URL, after redirects. */
  url: string;
  /** Response headers, lower-case, without cookies and hop-by-hop headers. */
  headers: Record<string, string>;
  /** The body as text (`encoding: 'utf8'`) or base64 (`'base64'`, for binary content). */
  body: string;
  encoding: 'utf8' | 'base64';
  /** Body size in bytes, as received. */
  bytes: number;
}

const MAX_REQUEST_BODY_CHARS = 1024 * 1024;
const TEXTUAL = /^(text\/|application\/([\w.+-]*\+)?(json|xml|javascript|x-www-form-urlencoded|yaml|x-ndjson)\b)/i;

/** The input fields an agent's HTTP request has (`http.fetch`, `pay.fetch`). */
export function agentRequestFields(methods: readonly [string, ...string[]]) {
  return {
    url: z.string().min(1).max(8192).describe('Absolute http(s) URL on an allowed domain'),
    method: z.enum(methods).default('GET').describe(`One of ${methods.join(', ')}`),
    headers: z
      .record(z.string().min(1).max(256), z.string().max(8192))
      .refine((h) => Object.keys(h).length <= 50, 'at most 50 headers')
      .optional()
      .describe('Request headers; no credentials or hop-by-hop headers'),
    body: z.string().max(MAX_REQUEST_BODY_CHARS).optional().describe('Request body (text), for methods that take one'),
  };
}

/**
 * Lower-cased agent headers, or a refusal: credentials and transport controls are the host's,
 * and client-address, forwarding and cloud-metadata headers are never sent.
 * @throws GatewayError `VALIDATION_FAILED` naming the header.
 */
export function agentHeaders(given: Readonly<Record<string, string>> | undefined, tool: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [rawName, value] of Object.entries(given ?? {})) {
    const name = rawName.toLowerCase();
    const problem = headerProblem(name, value);
    if (problem !== undefined) throw new GatewayError('VALIDATION_FAILED', `Invalid arguments for ${tool}: ${problem}.`);
    if (isTransportHeader(name) || isCredentialHeader(name)) {
      throw new GatewayError('VALIDATION_FAILED', `Header ${name} may not be set by the agent (credentials and transport headers are the host's).`, {
        data: { header: name },
      });
    }
    if (isSpoofingHeader(name)) throw spoofingRefusal(name);
    headers[name] = value;
  }
  return headers;
}

/** What an agent is shown of a response: no cookies or hop-by-hop headers; text or base64. */
export function describeResponse(status: number, url: string, headers: Iterable<[string, string | string[] | undefined]>, bytes: Buffer): HttpFetchResult {
  const shown: Record<string, string> = {};
  let contentType: string | null = null;
  for (const [name, value] of headers) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (name === 'content-type') contentType = text;
    if (!HIDDEN_RESPONSE_HEADERS.has(name) && !TRANSPORT_HEADERS.has(name)) shown[name] = text;
  }
  const text = isTextual(contentType, bytes);
  return { status, url, headers: shown, body: text ? bytes.toString('utf8') : bytes.toString('base64'), encoding: text ? 'utf8' : 'base64', bytes: bytes.length };
}

/**
 * The `http.fetch` tool: the agent's way out, through the guarded fetch. Agent headers may
 * not carry credentials or transport controls (refused with `VALIDATION_FAILED`, naming the
 * header): credentials are the host's business, through `injectHeaders`.
 */
export function httpFetchTool(fetch: GuardedFetch, config: HttpConnectorConfig): ToolDefinition<z.ZodType, HttpFetchResult> {
  const inputSchema = z.strictObject(agentRequestFields(config.allowedMethods as [string, ...string[]]));
  return defineTool({
    name: 'http.fetch',
    description: `Fetches a URL on an allowed domain (${config.allowedDomains.join(', ') || 'none configured'}) and returns status, headers and body.`,
    inputSchema,
    async execute(args, ctx) {
      const headers = agentHeaders(args.headers, 'http.fetch');
      const maxBytes = Math.min(config.maxBytes, ctx.limits.maxBytes);
      const response = await fetch.request(args.url, { method: args.method, headers, body: args.body, signal: ctx.signal, maxBytes, onHop: hopCheck(ctx) });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      return describeResponse(response.statusCode, response.url, Object.entries(response.headers), bytes);
    },
    // The limit is on the body received, not on its base64 form.
    measure: (result) => result.bytes,
    canonicalize: (args) => ({ facts: urlFacts(parseAgentUrl(args.url), args.method) }),
  });
}

/** With argument rules: every hop's URL (each redirect) is decided by the rules again. */
export function hopCheck(ctx: ToolContext): ((url: URL, method: string) => void) | undefined {
  const canonical = ctx.canonical;
  return canonical === undefined ? undefined : (url, method) => canonical.recheck(urlFacts(url, method));
}

function isTextual(contentType: string | null, bytes: Buffer): boolean {
  if (contentType !== null) return TEXTUAL.test(contentType) && isUtf8(bytes);
  return isUtf8(bytes) && !bytes.includes(0);
}
