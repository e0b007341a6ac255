import { hashArgs } from '../../audit/canonical-json.js';
import { GatewayError, isGatewayError } from '../../errors.js';
import type { Canonical, CanonicalCall, Facts, ToolContext, ToolDefinition } from '../../tools.js';
import { MandateBook, redactSecrets, type ApprovalBinding, type Mandate, type MandateGrant } from './approvals.js';
import { compileRules, evaluateRules, type CompiledRule, type RuleVerdict } from './compile.js';
import { argumentRulesSchema, type ArgumentRule, type ArgumentRuleInput } from './schema.js';
import { randomUUID } from 'node:crypto';

/** What the host's `approveCall` is shown. Secrets are redacted. */
export interface CallApprovalRequest {
  tool: string;
  actor: string | undefined;
  /** The validated arguments, secret-like fields redacted. */
  args: unknown;
  /** The canonical facts the rule matched (a real path, a normalised URL, the tables read). */
  facts: Facts;
  rule: { id: string; description: string | undefined };
  /** Return it (or `true`) to approve this call, and this call only. */
  binding: ApprovalBinding;
}

/** The host's answer: `true` or the request's `binding` approves; `false` refuses. */
export type CallApprover = (request: CallApprovalRequest, context: { signal: AbortSignal }) => Promise<boolean | ApprovalBinding>;

/** What `gw.policy.explain` reports. Nothing is run: no file is read, no socket opened, no query sent. */
export interface Explanation {
  outcome: 'allow' | 'deny' | 'approve' | 'mandate';
  /** The refusal code the call would get, if refused. */
  code?: string | undefined;
  /** The deciding rule (argument rule id, or the tool-level rule). */
  rule: string;
  reason: string;
  /** The canonical facts the argument rules saw, when the tool has rules. */
  facts?: Facts | undefined;
}

/** The argument-rule half of `gw.policy`. */
export interface ArgumentRulesApi {
  /** SHA-256 of the argument rules in force; approvals are bound to it. */
  readonly version: string;
  /** The argument rules in force. */
  rules(): readonly ArgumentRule[];
  /** Replaces the argument rules (validated like the config); outstanding approvals become void. @throws GatewayError `CONFIG_INVALID` */
  setRules(rules: readonly ArgumentRuleInput[]): void;
  /** Grants `actor` `count` runs of the approve rule `rule` until `expiresAtMs`, without asking. @throws GatewayError `CONFIG_INVALID` */
  grantMandate(grant: MandateGrant): Mandate;
  revokeMandate(id: string): boolean;
  mandates(): Mandate[];
  /** What `gw.call(tool, args, ctx)` would do and why, without running anything. */
  explain(tool: string, args: unknown, ctx?: { actor?: string | undefined }): Promise<Explanation>;
}

export interface ArgumentRulesDeps {
  now: () => number;
  approveCall?: CallApprover | undefined;
  /** The tool of that name, for explain. */
  tool(name: string): ToolDefinition | undefined;
  /** The tool-level decision (allow/deny lists), for explain. */
  decideTool(name: string, actor: string | undefined): { allowed: boolean; reason: string; rule: string; code?: string | undefined };
}

/** The argument rules compiled, and the pipeline step that enforces them. */
export interface ArgumentRules {
  /** Enforces the rules of `tool` on `args`; `undefined` when the tool has none. Sets `ctx.canonical`. */
  gate(tool: ToolDefinition, args: unknown, ctx: ToolContext): Promise<void> | undefined;
  readonly api: ArgumentRulesApi;
}

const DEFAULT_APPROVAL_TIMEOUT_MS = 60_000;

/**
 * Whether what a person was shown (`shown`) covers a later step's facts: each fact the person
 * saw is unchanged, except `amountSats`, which may be lower (a 402 asking less than the call's
 * cap); a fact the call did not have (the payment scheme) is decided by the rules alone. A call
 * shown without an amount (no `maxAmountSats`) was approved without a cap.
 */
function covers(shown: Facts, step: Facts): boolean {
  for (const [name, value] of Object.entries(step)) {
    if (!Object.hasOwn(shown, name)) continue;
    const seen = shown[name];
    if (name === 'amountSats' && typeof seen === 'number' && typeof value === 'number') {
      if (value > seen) return false;
      continue;
    }
    if (hashArgs(seen) !== hashArgs(value)) return false;
  }
  return true;
}

/**
 * Compiles `policy.rules` (already validated by the config) into the gate the gateway calls
 * between validation and execution.
 */
export function createArgumentRules(initial: readonly ArgumentRule[], deps: ArgumentRulesDeps): ArgumentRules {
  let source: readonly ArgumentRule[] = initial;
  let byTool = compileRules(source);
  let version = hashArgs(source);
  const ruleHashes = new Map<string, string>();
  const indexHashes = (): void => {
    ruleHashes.clear();
    for (const rule of source) if (rule.effect === 'approve') ruleHashes.set(rule.id, hashArgs(rule));
  };
  indexHashes();
  const mandates = new MandateBook();
  const used = new Set<string>();

  function canonicalOf(tool: ToolDefinition, args: unknown, ctx: ToolContext): Canonical | Promise<Canonical> {
    return tool.canonicalize === undefined ? { facts: args as Facts } : tool.canonicalize(args, ctx);
  }

  function refuse(verdict: RuleVerdict, tool: string): GatewayError {
    return new GatewayError('POLICY_DENIED', `Call refused (rule ${verdict.rule}): ${verdict.reason}.`, { data: { rule: verdict.rule, tool } });
  }

  /** `approvedByPerson`: the approval covers these very facts, so a later step must keep them (a mandate covers its rule). */
  function pin(ctx: ToolContext, tool: string, canonical: Canonical, ruleId: string, forTool: readonly CompiledRule[], hasCanonicalize: boolean, approvedByPerson = false): void {
    // A tool without canonicalize has nothing pinned and no later step to decide: the hot path
    // of host tools stays free of the allocation.
    if (!hasCanonicalize) return;
    const call: CanonicalCall = {
      facts: canonical.facts,
      pinned: canonical.pinned,
      rule: ruleId,
      recheck(facts) {
        // A later step (a redirect hop, the 402 about to be paid) replaces the facts it changes
        // or learns (the amount asked, the payment scheme); the rest stay.
        const merged = { ...canonical.facts, ...facts };
        const verdict = evaluateRules(tool, forTool, merged, ctx.actor);
        if (verdict.effect === 'allow') return;
        if (verdict.effect === 'approve' && verdict.rule === ruleId) {
          // A person approved one URL and amount: a redirect elsewhere (a 307 re-sending a POST),
          // or a 402 asking more than the call showed, was not shown to them.
          if (!approvedByPerson || covers(canonical.facts, facts)) return;
          throw new GatewayError('APPROVAL_REQUIRED', `Call refused: the approval for rule "${ruleId}" covers the request that was shown, not a redirect to another one or a payment of more than it showed.`, { data: { rule: ruleId, tool } });
        }
        if (verdict.effect === 'approve') {
          // Known only now (what a 402 asks): the call was not shown to a person for this rule.
          throw new GatewayError('APPROVAL_REQUIRED', `Call refused (rule ${verdict.rule}): ${verdict.reason}, which was not known when the call was decided (what a 402 asks, a redirect); a pay.fetch call with maxAmountSats is asked before the 402.`, { data: { rule: verdict.rule, tool } });
        }
        throw refuse(verdict, tool);
      },
    };
    ctx.canonical = call;
  }

  function decide(tool: ToolDefinition, args: unknown, ctx: ToolContext, forTool: readonly CompiledRule[], canonical: Canonical): Promise<void> | undefined {
    const verdict = evaluateRules(tool.name, forTool, canonical.facts, ctx.actor);
    if (verdict.effect === 'allow') {
      pin(ctx, tool.name, canonical, verdict.rule, forTool, tool.canonicalize !== undefined);
      return undefined;
    }
    if (verdict.effect === 'deny') throw refuse(verdict, tool.name);
    return approve(tool, args, ctx, verdict.compiled as CompiledRule, canonical);
  }

  async function approve(tool: ToolDefinition, args: unknown, ctx: ToolContext, rule: CompiledRule, canonical: Canonical): Promise<void> {
    const argsSha256 = hashArgs({ args, facts: canonical.facts });
    const forTool = byTool.get(tool.name) ?? [];
    const nowMs = deps.now();
    if (mandates.consume(ctx.actor, rule.id, ruleHashes.get(rule.id) ?? '', nowMs) !== undefined) {
      pin(ctx, tool.name, canonical, rule.id, forTool, tool.canonicalize !== undefined);
      return;
    }
    const data = { rule: rule.id, tool: tool.name };
    if (deps.approveCall === undefined) {
      throw new GatewayError('APPROVAL_REQUIRED', `Call refused: rule "${rule.id}" needs a person's approval and no approver is configured (GatewayDeps.approveCall) nor a mandate granted.`, { data });
    }
    const timeoutMs = rule.source.approvalTimeoutMs ?? Math.min(DEFAULT_APPROVAL_TIMEOUT_MS, ctx.limits.timeoutMs || DEFAULT_APPROVAL_TIMEOUT_MS);
    const binding: ApprovalBinding = Object.freeze({
      id: randomUUID(),
      tool: tool.name,
      actor: ctx.actor ?? null,
      argsSha256,
      policyVersion: version,
      rule: rule.id,
      expiresAtMs: nowMs + timeoutMs,
    });
    const request: CallApprovalRequest = {
      tool: tool.name,
      actor: ctx.actor,
      args: redactSecrets(args),
      facts: redactSecrets(canonical.facts) as Facts,
      rule: { id: rule.id, description: rule.source.description },
      binding,
    };
    const answer = await waitForAnswer(deps.approveCall, request, ctx.signal, timeoutMs, data);
    if (answer === false) throw new GatewayError('APPROVAL_DENIED', `Call refused: the approver said no to rule "${rule.id}".`, { data });
    // The call resumes: everything the approval is bound to is checked again.
    const token = answer === true ? binding : answer;
    if (typeof token !== 'object' || token === null) {
      throw new GatewayError('APPROVAL_DENIED', `Call refused: the approver's answer for rule "${rule.id}" is neither true, false nor the request's binding.`, { data });
    }
    if (used.has(token.id)) throw new GatewayError('APPROVAL_DENIED', `Call refused: the approval for rule "${rule.id}" was already used.`, { data });
    if (token.id !== binding.id || token.tool !== binding.tool || token.actor !== binding.actor || token.argsSha256 !== binding.argsSha256 || token.rule !== binding.rule) {
      throw new GatewayError('APPROVAL_DENIED', `Call refused: the approval given is for another call (tool, actor or arguments differ).`, { data });
    }
    used.add(token.id);
    if (used.size > 100_000) used.clear(); // ids are random UUIDs: an old one never matches a new binding
    if (deps.now() > binding.expiresAtMs) {
      throw new GatewayError('APPROVAL_REQUIRED', `Call refused: the approval for rule "${rule.id}" expired before the call resumed.`, { data });
    }
    if (token.policyVersion !== version) {
      throw new GatewayError('APPROVAL_REQUIRED', `Call refused: the policy changed while rule "${rule.id}" waited for approval.`, { data });
    }
    // The resource may have changed while a person looked (a symlink swapped): canonicalise and decide again.
    let again = canonicalOf(tool, args, ctx);
    if (again instanceof Promise) again = await again;
    const current = byTool.get(tool.name) ?? []; // after the await: rules set meanwhile apply
    const verdict = evaluateRules(tool.name, current, again.facts, ctx.actor);
    if (verdict.rule !== rule.id || verdict.effect !== 'approve' || hashArgs({ args, facts: again.facts }) !== argsSha256) {
      throw new GatewayError('APPROVAL_REQUIRED', `Call refused: what rule "${rule.id}" approved changed before the call resumed.`, { data });
    }
    pin(ctx, tool.name, again, rule.id, current, tool.canonicalize !== undefined, true);
  }

  const api: ArgumentRulesApi = {
    get version() {
      return version;
    },
    rules: () => source,
    setRules(rules) {
      const parsed = argumentRulesSchema.safeParse(rules);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
        throw new GatewayError('CONFIG_INVALID', `Invalid policy.rules: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { data: { issues } });
      }
      const compiled = compileRules(parsed.data);
      source = parsed.data;
      byTool = compiled;
      version = hashArgs(source);
      indexHashes();
    },
    grantMandate: (grant) => mandates.grant(grant, ruleHashes.get(grant.rule), deps.now()),
    revokeMandate: (id) => mandates.revoke(id),
    mandates: () => mandates.list(),
    explain: (tool, args, ctx = {}) => explain(tool, args, ctx.actor),
  };

  async function explain(name: string, args: unknown, actor: string | undefined): Promise<Explanation> {
    const tool = deps.tool(name);
    if (tool === undefined) return { outcome: 'deny', code: 'TOOL_NOT_FOUND', rule: 'unknown-tool', reason: `no tool named ${JSON.stringify(name.slice(0, 64))}` };
    const parsed = await tool.inputSchema.safeParseAsync(args);
    if (!parsed.success) return { outcome: 'deny', code: 'VALIDATION_FAILED', rule: 'inputSchema', reason: parsed.error.issues.map((i) => i.message).join('; ') };
    const decision = deps.decideTool(name, actor);
    if (!decision.allowed) return { outcome: 'deny', code: decision.code ?? 'POLICY_DENIED', rule: decision.rule, reason: decision.reason };
    const forTool = byTool.get(name);
    if (forTool === undefined) return { outcome: 'allow', rule: decision.rule, reason: decision.reason };
    const ctx: ToolContext = { signal: new AbortController().signal, actor, requestId: 'explain', limits: { timeoutMs: 0, maxBytes: 0 } };
    let canonical: Canonical;
    try {
      canonical = await canonicalOf(tool, parsed.data, ctx);
    } catch (error) {
      // As gw.call answers it: a host's own error is TOOL_FAILED, its message (which may hold values) kept out.
      if (!isGatewayError(error)) return { outcome: 'deny', code: 'TOOL_FAILED', rule: 'canonicalize', reason: `${name} failed while its facts were looked up` };
      return { outcome: 'deny', code: error.code, rule: 'canonicalize', reason: error.message };
    }
    const verdict = evaluateRules(name, forTool, canonical.facts, actor);
    const facts = redactSecrets(canonical.facts) as Facts;
    if (verdict.effect === 'approve') {
      const mandate = mandates.consume(actor, verdict.rule, ruleHashes.get(verdict.rule) ?? '', deps.now(), true);
      if (mandate !== undefined) return { outcome: 'mandate', rule: verdict.rule, reason: `${verdict.reason}; mandate ${mandate.id} has ${mandate.remaining} use(s) left`, facts };
      return { outcome: 'approve', code: deps.approveCall === undefined ? 'APPROVAL_REQUIRED' : undefined, rule: verdict.rule, reason: verdict.reason, facts };
    }
    return { outcome: verdict.effect, ...(verdict.effect === 'deny' ? { code: 'POLICY_DENIED' } : {}), rule: verdict.rule, reason: verdict.reason, facts };
  }

  return {
    gate(tool, args, ctx) {
      const forTool = byTool.get(tool.name);
      if (forTool === undefined) return undefined;
      const canonical = canonicalOf(tool, args, ctx);
      // Rules replaced while the facts were looked up (setRules) decide: a revocation is not missed.
      if (canonical instanceof Promise) return canonical.then((c) => decide(tool, args, ctx, byTool.get(tool.name) ?? [], c));
      return decide(tool, args, ctx, forTool, canonical);
    },
    api,
  };
}

function waitForAnswer(
  approver: CallApprover,
  request: CallApprovalRequest,
  callSignal: AbortSignal,
  timeoutMs: number,
  data: Record<string, unknown>,
): Promise<boolean | ApprovalBinding> {
  const controller = new AbortController();
  return new Promise((resolve, reject) => {
    const finish = (error?: GatewayError, answer?: boolean | ApprovalBinding): void => {
      clearTimeout(timer);
      callSignal.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        controller.abort(error);
        reject(error);
      } else resolve(answer as boolean | ApprovalBinding);
    };
    const timer = setTimeout(() => finish(new GatewayError('APPROVAL_REQUIRED', `Call refused: no approval for rule "${request.rule.id}" within ${timeoutMs} ms.`, { data })), timeoutMs);
    const onAbort = (): void => finish(isGatewayError(callSignal.reason) ? callSignal.reason : new GatewayError('ABORTED', 'The call was aborted while waiting for approval.'));
    if (callSignal.aborted) return onAbort();
    callSignal.addEventListener('abort', onAbort, { once: true });
    let pending: Promise<boolean | ApprovalBinding>;
    try {
      pending = approver(request, { signal: controller.signal });
    } catch {
      return finish(new GatewayError('APPROVAL_REQUIRED', `Call refused: the approver failed for rule "${request.rule.id}".`, { data }));
    }
    Promise.resolve(pending).then(
      (answer) => finish(undefined, answer),
      () => finish(new GatewayError('APPROVAL_REQUIRED', `Call refused: the approver failed for rule "${request.rule.id}".`, { data })),
    );
  });
}
