import type { ResolvedConfig } from '../config.js';
import { compileGlob } from '../policy/glob.js';
import { didYouMean, nearest } from './nearest.js';
import { own, RENAMED_TOOLS } from './renames.js';

/**
 * Settings that are legal but do not do what they say; warned about (not refused) because a
 * payment still cannot exceed the lower limit: the per-minute budget caps what `maxAutoPaySats`
 * lets through without approval.
 */
export function configWarnings(config: ResolvedConfig): string[] {
  const warnings: string[] = [];
  const { maxAutoPaySats, maxSpendPerMinuteSats, maxSpendPerDaySats } = config.payments;
  if (maxAutoPaySats > maxSpendPerMinuteSats) {
    warnings.push(`payments.maxAutoPaySats (${maxAutoPaySats}) is above payments.maxSpendPerMinuteSats (${maxSpendPerMinuteSats}): no payment above ${maxSpendPerMinuteSats} sats can be made, with or without approval.`);
  }
  if (maxSpendPerDaySats !== undefined && maxSpendPerMinuteSats > maxSpendPerDaySats) {
    warnings.push(`payments.maxSpendPerMinuteSats (${maxSpendPerMinuteSats}) is above payments.maxSpendPerDaySats (${maxSpendPerDaySats}): the daily budget is the real limit.`);
  }
  return warnings;
}

/** Entries naming the built-in tools' namespaces (and the seed's `web.`), judged at creation. */
const BUILT_IN_NAMESPACE = /^(fs|http|db|pay|web)\./i;

/** The policy entries (allowTools, denyTools, perTool, actor lists) that name tools, with their config path. */
function toolEntries(config: ResolvedConfig): { path: string; entry: string }[] {
  const { policy } = config;
  const entries: { path: string; entry: string }[] = [];
  const add = (path: string, list: readonly string[] | undefined): void => list?.forEach((entry, i) => entries.push({ path: `${path}.${i}`, entry }));
  add('policy.allowTools', policy.allowTools);
  add('policy.denyTools', policy.denyTools);
  for (const name of Object.keys(policy.perTool)) entries.push({ path: `policy.perTool.${name}`, entry: name });
  for (const [actor, rules] of Object.entries(policy.actors)) {
    add(`policy.actors.${actor}.allowTools`, rules.allowTools);
    add(`policy.actors.${actor}.denyTools`, rules.denyTools);
  }
  return entries;
}

/**
 * Watches the policy's tool entries against the tools registered. At creation (`created`, once
 * the built-in tools are in), an entry in a built-in namespace (`fs.`, `http.`, `db.`, `pay.`,
 * `web.`) or a renamed name that matches no tool is warned about, with the nearest tool name or
 * the new name (`fs.readfile`, `web.fetch`, `db.*` without `connectors.postgres`). Other
 * entries name host tools, registered after `createGateway` returns: when one is registered,
 * an entry that still matches nothing but is a typo away from it (`acme.serch` for
 * `acme.search`) is warned about. Warnings, not errors, for that reason.
 */
export function toolSetChecker(config: ResolvedConfig, warn: (message: string) => void): { created(tools: Iterable<string>): void; registered(tool: string): void } {
  const entries = toolEntries(config).map((item) => ({ ...item, glob: compileGlob(item.entry), matched: false }));
  const known = new Set<string>();
  let started = false;
  const match = (tool: string): void => {
    for (const item of entries) if (!item.matched && item.glob.test(tool)) item.matched = true;
  };
  return {
    created(tools) {
      started = true;
      for (const tool of tools) {
        known.add(tool);
        match(tool);
      }
      for (const item of entries) {
        // Host tools are registered after createGateway returns: only names in the built-in
        // tools' namespaces (or renamed ones) are judged now; the rest on register().
        const renamed = own(RENAMED_TOOLS, item.entry);
        if (item.matched || !(BUILT_IN_NAMESPACE.test(item.entry) || renamed !== undefined)) continue;
        const hint = renamed === undefined ? didYouMean(nearest(item.entry, known)) : ` ("${item.entry}" is now "${renamed}")`;
        warn(`${item.path} "${item.entry}" matches no tool${hint}; it has no effect unless a host tool of that name is registered.`);
      }
    },
    registered(tool) {
      if (!started) return; // the built-in tools: created() looks at them all at once
      known.add(tool);
      for (const item of entries) {
        if (item.matched) continue;
        if (item.glob.test(tool)) {
          item.matched = true;
        } else if (!item.entry.includes('*') && !item.entry.includes('?') && nearest(item.entry, [tool]) !== undefined) {
          warn(`${item.path} "${item.entry}" matches no tool; tool "${tool}" was just registered: a typo?`);
        }
      }
    },
  };
}
