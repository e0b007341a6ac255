// The argument rules (`policy.rules`) as `portcullis check` prints them: one line per rule (id,
// effect, tool, actors), one per condition. Every piece of text from the config is spelled out.
import type { ArgumentRule } from '../policy/rules/schema.js';
import { spellOut } from '../util/escape.js';

const value = (v: unknown): string => spellOut(JSON.stringify(v) ?? String(v));

/** The lines of the "argument rules" section (without its heading). */
export function describeRules(rules: readonly ArgumentRule[]): string[] {
  if (rules.length === 0) return ['  (none: only the tool lists above decide)'];
  const lines: string[] = [];
  for (const rule of rules) {
    const actors = rule.actors === undefined ? 'every caller' : `actors ${rule.actors.map((actor) => spellOut(actor)).join(', ')}`;
    lines.push(`  ${spellOut(rule.id).padEnd(22)} ${rule.effect.toUpperCase()} ${spellOut(rule.tool)} for ${actors}`);
    const conditions = Object.entries(rule.when);
    if (conditions.length === 0) lines.push('      when (always: no conditions)');
    for (const [fact, condition] of conditions) {
      const tests = Object.entries(condition).filter(([, v]) => v !== undefined).map(([op, v]) => `${op} ${value(v)}`);
      lines.push(`      when ${spellOut(fact)} ${tests.join(' and ')}`);
    }
    if (rule.effect === 'approve' && rule.approvalTimeoutMs !== undefined) lines.push(`      approval within ${rule.approvalTimeoutMs} ms`);
    if (rule.description !== undefined) lines.push(`      description ${value(rule.description)}`);
  }
  return lines;
}
