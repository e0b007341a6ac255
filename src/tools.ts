import type { z } from 'zod';
import type { ToolLimits } from './policy/engine.js';

/** What a tool's `execute` receives besides its arguments. */
export interface ToolContext {
  /**
   * Aborted at the call's timeout, on the caller's abort and when the gateway closes. Pass it
   * to every I/O call so that the work itself stops, not just the promise.
   */
  signal: AbortSignal;
  /** `ctx.actor` of the call, if any. */
  actor: string | undefined;
  requestId: string;
  /** The effective limits; a streaming tool stops reading once `maxBytes` is passed. */
  limits: ToolLimits;
  /**
   * Set when argument rules decided a call of a tool with {@link ToolDefinition.canonicalize}:
   * what it pinned, which the execution must use (not the agent's arguments again).
   */
  canonical?: CanonicalCall | undefined;
}

/** One canonical fact: what argument rules see (a real path, a host, a table list). */
export type FactValue = string | number | boolean | null | readonly string[];
/** The canonical facts of one call, by name (`path`, `host`, `tables`…). */
export type Facts = Readonly<Record<string, FactValue>>;

/** What {@link ToolDefinition.canonicalize} returns. */
export interface Canonical {
  /** The facts the rules decide on. */
  facts: Facts;
  /** What the execution must use so that it acts on those very facts (a checked path). */
  pinned?: unknown;
}

/** The canonical form of a call the rules allowed, as its execution sees it. */
export interface CanonicalCall {
  readonly facts: Facts;
  readonly pinned: unknown;
  /** The id of the rule that allowed the call. */
  readonly rule: string;
  /**
   * Decides a later step of the same call (a redirect hop) with the same rules, on the call's
   * facts with `facts` replacing those the step changes.
   * @throws GatewayError `POLICY_DENIED` unless a rule allows it (or it is the approved rule).
   */
  recheck(facts: Facts): void;
}

/**
 * A tool the gateway can run. Host tools (`gw.register`) and built-in connectors are the same
 * thing and go through the same pipeline.
 */
export interface ToolDefinition<S extends z.ZodType = z.ZodType, R = unknown> {
  /** Dotted name, such as `acme.searchIssues`. */
  name: string;
  /** What the tool does, for the agent. */
  description: string;
  /** The zod schema of the arguments; the gateway validates before policy and execution. */
  inputSchema: S;
  /** Does the work. Throw a `GatewayError` to refuse with a specific code. */
  execute(args: z.output<S>, ctx: ToolContext): Promise<R> | R;
  /**
   * The result's size in bytes, as checked against `maxBytes` and audited.
   * @default the UTF-8 length of `JSON.stringify(result)`
   */
  measure?(result: R): number;
  /**
   * The canonical facts argument rules (`policy.rules`) decide on, from the validated
   * arguments. Without it, the rules see the validated arguments themselves. It may look at
   * the world (resolve a path) but never act on it (no read, no socket, no query).
   */
  canonicalize?(args: z.output<S>, ctx: ToolContext): Canonical | Promise<Canonical>;
}

/**
 * Identity helper that infers the argument type of `execute` from `inputSchema`.
 *
 * @example
 * ```ts
 * const echo = defineTool({
 *   name: 'demo.echo',
 *   description: 'Returns its input.',
 *   inputSchema: z.object({ text: z.string().max(1000) }),
 *   execute: ({ text }) => ({ text }),
 * });
 * gw.register(echo);
 * ```
 */
export function defineTool<S extends z.ZodType, R>(tool: ToolDefinition<S, R>): ToolDefinition<S, R> {
  return tool;
}

/** A tool as `gw.listTools()` shows it. */
export interface ListedTool {
  name: string;
  description: string;
  inputSchema: z.ZodType;
  /** JSON Schema (draft 2020-12) of the input, for MCP and function-calling APIs. */
  jsonSchema: Record<string, unknown>;
}
