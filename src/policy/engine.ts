import { compileGlobList, type GlobList } from './glob.js';
import { createMemoryRateLimitStore, type RateLimit, type RateLimitStore } from './rate-limit.js';

/** Limits that apply to one tool call. */
export interface ToolLimits {
  /** Wall-clock limit for the call, in ms. */
  timeoutMs: number;
  /** Largest result the call may return, in bytes. */
  maxBytes: number;
}

/** Per-tool overrides. They set limits only: an entry here never allows a tool. */
export interface PerToolPolicy {
  timeoutMs?: number | undefined;
  maxBytes?: number | undefined;
  /** Calls to this tool, by all actors together. */
  rateLimit?: RateLimit | undefined;
}

/** Per-actor rules. They can only narrow what the global lists allow. */
export interface ActorPolicy {
  /** When set, the actor may call only tools matching these globs (and the global allow list). */
  allowTools?: readonly string[] | undefined;
  /** Tools this actor may never call. */
  denyTools?: readonly string[] | undefined;
  /** Calls by this actor, to all tools together. */
  rateLimit?: RateLimit | undefined;
}

/** Options of {@link createPolicy}; `createGateway` fills them from `config.policy`. */
export interface PolicyOptions {
  defaultDeny: boolean;
  allowTools: readonly string[];
  denyTools: readonly string[];
  globalTimeoutMs: number;
  globalMaxBytes: number;
  perTool: Readonly<Record<string, PerToolPolicy>>;
  actors: Readonly<Record<string, ActorPolicy>>;
}

/** A policy decision is data; only the gateway turns a refusal into an error. */
export interface PolicyDecision {
  allowed: boolean;
  /** Why, in words safe to log (no argument values). */
  reason: string;
  /** The rule that decided, such as `denyTools:fs.*` or `default-deny`. */
  rule: string;
  /** For a refusal: `POLICY_DENIED` or `RATE_LIMITED`. */
  code?: 'POLICY_DENIED' | 'RATE_LIMITED';
}

/** The compiled policy engine (`gw.policy`). */
export interface Policy {
  /** Decides whether `actor` may call `tool`, without counting towards any rate limit. */
  decide(tool: string, actor?: string): PolicyDecision;
  /**
   * {@link Policy.decide}, then counts the call against the tool's and actor's rate limits.
   * Returns a promise only when an asynchronous (shared) rate-limit store is consulted.
   */
  admit(tool: string, actor?: string, nowMs?: number): PolicyDecision | Promise<PolicyDecision>;
  /** The effective timeout and size limit of `tool`. */
  limitsFor(tool: string): ToolLimits;
}

/** Dependencies of {@link createPolicy}. */
export interface PolicyDeps {
  rateLimitStore?: RateLimitStore;
  now?: () => number;
}

/** Decisions cached at most; the cache starts afresh when full (names come from agents). */
const DECISION_CACHE_SIZE = 10_000;

interface CompiledActor {
  allow: GlobList | undefined;
  deny: GlobList;
  rateLimit: RateLimit | undefined;
}

/**
 * Compiles a default-deny policy. Order of evaluation: a global deny glob, then an actor deny
 * glob (deny always wins), then the global allow list (unless `defaultDeny` is false), then
 * the actor's own allow list. `perTool` entries never grant access.
 *
 * @example
 * ```ts
 * const policy = createPolicy({ ...defaults, allowTools: ['fs.*'], denyTools: ['fs.stat'] });
 * policy.decide('fs.readFile'); // { allowed: true, rule: 'allowTools:fs.*', ... }
 * ```
 */
export function createPolicy(options: PolicyOptions, deps: PolicyDeps = {}): Policy {
  const allow = compileGlobList(options.allowTools);
  const deny = compileGlobList(options.denyTools);
  const actors = new Map<string, CompiledActor>();
  for (const [id, rules] of Object.entries(options.actors)) {
    actors.set(id, {
      allow: rules.allowTools === undefined ? undefined : compileGlobList(rules.allowTools),
      deny: compileGlobList(rules.denyTools ?? []),
      rateLimit: rules.rateLimit,
    });
  }
  const store = deps.rateLimitStore ?? createMemoryRateLimitStore();
  const now = deps.now ?? Date.now;
  const perTool = new Map(Object.entries(options.perTool));

  // Decisions depend only on the compiled options, so they are computed once per (tool, actor).
  // Keyed by actor, then tool, so a lookup builds no key string.
  const cache = new Map<string | undefined, Map<string, PolicyDecision>>();
  let cached = 0;
  function decide(tool: string, actor?: string): PolicyDecision {
    let byTool = cache.get(actor);
    let decision = byTool?.get(tool);
    if (decision === undefined) {
      decision = Object.freeze(evaluate(tool, actor));
      if (cached >= DECISION_CACHE_SIZE) {
        cache.clear();
        cached = 0;
        byTool = undefined;
      }
      if (byTool === undefined) cache.set(actor, (byTool = new Map<string, PolicyDecision>()));
      byTool.set(tool, decision);
      cached += 1;
    }
    return decision;
  }

  function evaluate(tool: string, actor?: string): PolicyDecision {
    const globalDeny = deny.match(tool);
    if (globalDeny !== undefined) {
      return refuse(`tool "${tool}" is denied by denyTools "${globalDeny}"`, `denyTools:${globalDeny}`);
    }
    const rules = actor === undefined ? undefined : actors.get(actor);
    const actorDeny = rules?.deny.match(tool);
    if (actorDeny !== undefined) {
      return refuse(`tool "${tool}" is denied for this actor by "${actorDeny}"`, `actors.denyTools:${actorDeny}`);
    }
    let rule: string;
    let reason: string;
    const globalAllow = allow.match(tool);
    if (globalAllow !== undefined) {
      rule = `allowTools:${globalAllow}`;
      reason = `allowed by allowTools "${globalAllow}"`;
    } else if (!options.defaultDeny) {
      rule = 'default-allow';
      reason = 'allowed because defaultDeny is false';
    } else {
      return refuse(`tool "${tool}" is not in allowTools (default deny)`, 'default-deny');
    }
    if (rules?.allow !== undefined) {
      const actorAllow = rules.allow.match(tool);
      if (actorAllow === undefined) {
        return refuse(`tool "${tool}" is not in this actor's allowTools`, 'actors.allowTools');
      }
      rule = `${rule}+actors.allowTools:${actorAllow}`;
    }
    return { allowed: true, reason, rule };
  }

  return {
    decide,
    admit(tool, actor, nowMs = now()) {
      const decision = decide(tool, actor);
      if (!decision.allowed) return decision;
      const actorLimit = actor === undefined ? undefined : actors.get(actor)?.rateLimit;
      const toolLimit = perTool.get(tool)?.rateLimit;
      if (actorLimit === undefined && toolLimit === undefined) return decision;
      return (async () => {
        if (actorLimit !== undefined && !(await store.tryHit(`actor:${actor}`, actorLimit, nowMs))) {
          return limited(`actor rate limit of ${actorLimit.maxCalls} calls per ${actorLimit.windowMs} ms reached`, 'actors.rateLimit');
        }
        if (toolLimit !== undefined && !(await store.tryHit(`tool:${tool}`, toolLimit, nowMs))) {
          return limited(`rate limit of ${toolLimit.maxCalls} calls per ${toolLimit.windowMs} ms for "${tool}" reached`, 'perTool.rateLimit');
        }
        return decision;
      })();
    },
    limitsFor(tool) {
      const override = perTool.get(tool);
      return {
        timeoutMs: override?.timeoutMs ?? options.globalTimeoutMs,
        maxBytes: override?.maxBytes ?? options.globalMaxBytes,
      };
    },
  };
}

function refuse(reason: string, rule: string): PolicyDecision {
  return { allowed: false, reason, rule, code: 'POLICY_DENIED' };
}

function limited(reason: string, rule: string): PolicyDecision {
  return { allowed: false, reason, rule, code: 'RATE_LIMITED' };
}
