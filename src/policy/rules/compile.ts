import { realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { isInside } from '../../fs/roots.js';
import type { FactValue, Facts } from '../../tools.js';
import { compileGlob } from '../glob.js';
import { compileBoundedRegex } from './regex.js';
import type { ArgumentRule, Condition } from './schema.js';

/** True, false, or no verdict (a value too long for a pattern, a fact the tool does not give). */
type Verdict = boolean | undefined;
type Test = (value: FactValue | undefined) => Verdict;

/** A rule compiled once: its conditions are closures over sets, globs and NFAs. */
export interface CompiledRule {
  readonly source: ArgumentRule;
  readonly id: string;
  readonly effect: ArgumentRule['effect'];
  readonly actors: ReadonlySet<string> | undefined;
  readonly tests: readonly { fact: string; test: Test }[];
  /** The verdict when it matches, made once. */
  readonly verdict: RuleVerdict;
}

/** What the rules say about one call's facts. */
export interface RuleVerdict {
  effect: 'allow' | 'deny' | 'approve';
  /** The deciding rule's id, or `default-deny:<tool>` when none matched. */
  rule: string;
  reason: string;
  compiled?: CompiledRule | undefined;
}

/**
 * Facts a tool learns only as it runs, and decides again (`CanonicalCall.recheck`) with their
 * real values before acting on them: `pay.fetch` knows what a 402 asks only when it arrives, and
 * the payer rechecks before reserving or paying. Missing at the call, an allow rule may pass on
 * them (to be decided again); a deny or approve rule does not match on them yet.
 */
const PENDING_FACTS: Readonly<Record<string, ReadonlySet<string>>> = { 'pay.fetch': new Set(['amountSats', 'paymentScheme', 'paymentMethod']) };

const list = (value: string | readonly string[] | undefined): readonly string[] => (value === undefined ? [] : typeof value === 'string' ? [value] : value);

/**
 * A directory of a path rule, as a real path: `/data` that is a symlink to `/mnt/data` must
 * match the real paths the fs connector reports. A directory that does not exist yet keeps the
 * real path of its nearest existing parent.
 */
export function realDirectory(path: string): string {
  const absolute = resolve(path);
  let head = absolute;
  let tail = '';
  for (;;) {
    try {
      return resolve(realpathSync.native(head), tail);
    } catch {
      const parent = dirname(head);
      if (parent === head) return absolute;
      tail = tail === '' ? head.slice(parent.length).replace(/^[\\/]/, '') : `${head.slice(parent.length).replace(/^[\\/]/, '')}${sep}${tail}`;
      head = parent;
    }
  }
}

function underPrefix(path: string, prefix: string): boolean {
  if (prefix.endsWith('/')) return path.startsWith(prefix) || path === prefix.slice(0, -1);
  return path === prefix || path.startsWith(`${prefix}/`);
}

/** `every` element passes (a scalar is a list of one); a no-verdict element spoils the whole. */
function every(test: (v: FactValue) => Verdict): Test {
  return (value) => {
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) return test(value);
    let result: Verdict = true;
    for (const item of value as readonly string[]) {
      const v = test(item);
      if (v === undefined) return undefined;
      if (!v) result = false;
    }
    return result;
  };
}

function compileCondition(condition: Condition): Test[] {
  const tests: Test[] = [];
  if (condition.equals !== undefined) {
    const expected = condition.equals;
    tests.push(every((v) => v === expected));
  }
  if (condition.in !== undefined) {
    const set = new Set<unknown>(condition.in);
    tests.push(every((v) => set.has(v)));
  }
  if (condition.notIn !== undefined) {
    const set = new Set<unknown>(condition.notIn);
    tests.push(every((v) => !set.has(v)));
  }
  if (condition.anyIn !== undefined) {
    const set = new Set<unknown>(condition.anyIn);
    tests.push((value) => (value === undefined ? undefined : Array.isArray(value) ? (value as readonly string[]).some((v) => set.has(v)) : set.has(value)));
  }
  if (condition.min !== undefined || condition.max !== undefined) {
    const min = condition.min ?? -Infinity;
    const max = condition.max ?? Infinity;
    tests.push(every((v) => typeof v === 'number' && v >= min && v <= max));
  }
  if (condition.glob !== undefined) {
    const globs = list(condition.glob).map(compileGlob);
    tests.push(every((v) => typeof v === 'string' && globs.some((g) => g.test(v))));
  }
  if (condition.regex !== undefined) {
    const regex = compileBoundedRegex(condition.regex);
    tests.push(every((v) => (typeof v === 'string' ? regex.test(v) : false)));
  }
  if (condition.under !== undefined) {
    const dirs = list(condition.under).map(realDirectory);
    tests.push(every((v) => typeof v === 'string' && dirs.some((d) => isInside(v, d))));
  }
  if (condition.notUnder !== undefined) {
    const dirs = list(condition.notUnder).map(realDirectory);
    tests.push(every((v) => typeof v === 'string' && !dirs.some((d) => isInside(v, d))));
  }
  if (condition.prefix !== undefined) {
    const prefixes = list(condition.prefix);
    tests.push(every((v) => typeof v === 'string' && prefixes.some((p) => underPrefix(v, p))));
  }
  return tests;
}

/** Compiles validated rules, grouped by tool in their order. */
export function compileRules(rules: readonly ArgumentRule[]): Map<string, CompiledRule[]> {
  const byTool = new Map<string, CompiledRule[]>();
  for (const rule of rules) {
    const tests: { fact: string; test: Test }[] = [];
    for (const [fact, condition] of Object.entries(rule.when)) {
      for (const test of compileCondition(condition)) tests.push({ fact, test });
    }
    const reason = `${rule.effect === 'deny' ? 'denied' : rule.effect === 'allow' ? 'allowed' : 'needs approval'} by rule "${rule.id}"`;
    const compiled: CompiledRule = { source: rule, id: rule.id, effect: rule.effect, actors: rule.actors === undefined ? undefined : new Set(rule.actors), tests, verdict: { effect: rule.effect, rule: rule.id, reason } };
    (compiled.verdict as { compiled?: CompiledRule }).compiled = compiled;
    let forTool = byTool.get(rule.tool);
    if (forTool === undefined) byTool.set(rule.tool, (forTool = []));
    forTool.push(compiled);
  }
  return byTool;
}

/** A fact by name: `path`, or a dotted path into the arguments of a host tool (`filter.owner`). */
function factOf(facts: Facts, name: string): FactValue | undefined {
  const direct = Object.hasOwn(facts, name) ? facts[name] : undefined;
  if (!name.includes('.')) return asFact(direct);
  let value: unknown = facts;
  for (const part of name.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, part)) {
      value = undefined;
      break;
    }
    value = (value as Record<string, unknown>)[part];
  }
  // A key spelled "filter.owner" next to filter: { owner } (a loose host schema) is two readings
  // of one name: no verdict, or the agent would pick which one a deny rule sees.
  if (direct !== undefined && value !== undefined) return undefined;
  return asFact(direct ?? value);
}

function asFact(value: unknown): FactValue | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return undefined; // an object, or a list of non-strings: no verdict
}

/**
 * The first rule (in config order) for `actor` whose conditions all hold decides. None: refused
 * (default deny once a tool has rules). A condition without a verdict refuses, naming its rule.
 */
export function evaluateRules(tool: string, rules: readonly CompiledRule[], facts: Facts, actor: string | undefined): RuleVerdict {
  const pending = PENDING_FACTS[tool];
  for (const rule of rules) {
    if (rule.actors !== undefined && (actor === undefined || !rule.actors.has(actor))) continue;
    let matched = true;
    let deferred: string | undefined;
    for (const { fact, test } of rule.tests) {
      if (pending !== undefined && pending.has(fact) && !Object.hasOwn(facts, fact)) {
        // Not known yet: decided again once it is (before anything is paid).
        if (rule.effect === 'allow') {
          deferred = fact;
          continue;
        }
        matched = false;
        break;
      }
      const verdict = test(factOf(facts, fact));
      if (verdict === undefined) {
        return { effect: 'deny', rule: rule.id, compiled: rule, reason: `rule "${rule.id}" cannot decide on "${fact}" (missing, not a plain value, or too long for its pattern)` };
      }
      if (!verdict) {
        matched = false;
        break;
      }
    }
    if (matched && deferred !== undefined) return { ...rule.verdict, reason: `${rule.verdict.reason}, until "${deferred}" is known (decided again before paying)` };
    if (matched) return rule.verdict;
  }
  return { effect: 'deny', rule: `default-deny:${tool}`, reason: `no argument rule of "${tool}" allows this call (default deny)` };
}
