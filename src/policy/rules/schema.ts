import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { nonCanonicalHttpLiterals } from './http-literals.js';
import { compileBoundedRegex } from './regex.js';

const scalar = z.union([z.string().max(4096), z.number(), z.boolean(), z.null()]);
const strings = z.union([z.string().min(1).max(4096), z.array(z.string().min(1).max(4096)).min(1).max(1000)]);
const absolute = z.string().min(1).max(4096).refine(isAbsolute, 'must be an absolute path (rule directories are resolved to real paths when the gateway starts)');
const directories = z.union([absolute, z.array(absolute).min(1).max(1000)]);
/** Facts of the built-in tools that are lists: a deny rule must say `anyIn` (an `in` would need every element to match). */
const LIST_FACTS: Readonly<Record<string, readonly string[]>> = { 'db.query': ['tables', 'schemas', 'functions'] };

/**
 * One test on one canonical fact. Several operators in one object must all hold. On a list fact
 * (SQL `tables`, `functions`…), `in`, `glob`, `regex`, `under` and `prefix` must hold for every
 * element, `notIn`/`notUnder` for none, `anyIn` for at least one.
 */
export const conditionSchema = z
  .strictObject({
    /** The fact equals this value. */
    equals: scalar.optional(),
    /** The fact (every element of a list fact) is one of these. */
    in: z.array(scalar).max(10_000).optional(),
    /** The fact (no element of a list fact) is one of these. */
    notIn: z.array(scalar).max(10_000).optional(),
    /** At least one element of a list fact (or the fact itself) is one of these. */
    anyIn: z.array(scalar).max(10_000).optional(),
    /** Numeric range, inclusive. */
    min: z.number().optional(),
    max: z.number().optional(),
    /** Glob(s): `*` any run of characters, `?` one character; the whole value must match one. */
    glob: strings.optional(),
    /** A pattern of the bounded regex language (linear time; the whole value must match). */
    regex: z
      .string()
      .max(512)
      .superRefine((source, ctx) => {
        try {
          compileBoundedRegex(source);
        } catch (error) {
          ctx.addIssue({ code: 'custom', message: `unsupported pattern: ${(error as Error).message}` });
        }
      })
      .optional(),
    /** Path facts: the real path is one of these directories or inside one (component-wise). */
    under: directories.optional(),
    /** Path facts: the real path is none of these directories and inside none. */
    notUnder: directories.optional(),
    /** URL paths: the path is one of these prefixes at a segment boundary (`/api` matches `/api` and `/api/x`, not `/apix`). */
    prefix: strings.optional(),
  })
  .refine((c) => Object.keys(c).length > 0, 'a condition needs at least one operator');

/** One argument rule. */
export const argumentRuleSchema = z.strictObject({
  /** Stable id: named in refusals and audit records, and by mandates. */
  id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits, ".", "_", ":", "-" (1-128)'),
  /** The tool it applies to, by exact name. */
  tool: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$/, 'must be a tool name'),
  /** Actors it applies to; absent: every caller (with or without an actor). */
  actors: z.array(z.string().min(1).max(256)).min(1).optional(),
  /** `allow` runs the call, `deny` refuses it, `approve` asks the host's `approveCall` (or uses a mandate). */
  effect: z.enum(['allow', 'deny', 'approve']),
  /** Conditions on the canonical facts, by fact name (all must hold). Empty: matches every call. */
  when: z.record(z.string().min(1).max(128), conditionSchema).default({}),
  /** For `approve`: how long the host has to answer, and how long its answer is valid, in ms. @default 60000 */
  approvalTimeoutMs: z.number().int().positive().max(2_147_483_647).optional(),
  /** Shown to the approver and in refusals. */
  description: z.string().max(1000).optional(),
});

export const argumentRulesSchema = z
  .array(argumentRuleSchema)
  .max(10_000)
  .superRefine((rules, ctx) => {
    const seen = new Set<string>();
    rules.forEach((rule, index) => {
      if (seen.has(rule.id)) ctx.addIssue({ code: 'custom', message: `duplicate rule id "${rule.id}"`, path: [index, 'id'] });
      seen.add(rule.id);
      for (const [fact, condition] of Object.entries(rule.when)) {
        for (const message of nonCanonicalHttpLiterals(rule.tool, fact, condition)) ctx.addIssue({ code: 'custom', message, path: [index, 'when', fact] });
      }
      if (rule.effect !== 'deny') return;
      for (const fact of LIST_FACTS[rule.tool] ?? []) {
        const condition = rule.when[fact];
        if (condition !== undefined && (condition.in !== undefined || condition.equals !== undefined || condition.glob !== undefined || condition.regex !== undefined)) {
          ctx.addIssue({ code: 'custom', message: `a deny rule on the list fact "${fact}" must use anyIn (in, equals, glob and regex need every element to match, so one more table would slip past)`, path: [index, 'when', fact] });
        }
      }
    });
  });

export type Condition = z.output<typeof conditionSchema>;
export type ArgumentRule = z.output<typeof argumentRuleSchema>;
/** Argument rules as written in the config (`policy.rules`). */
export type ArgumentRuleInput = z.input<typeof argumentRuleSchema>;
