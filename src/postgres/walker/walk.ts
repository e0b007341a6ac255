// The iterative, default-deny walk over a SELECT's parse tree. An explicit stack (no recursion),
// so no input can overflow it; a depth bound, so a 3,000-term `1+1+…` is refused as too deep
// rather than handed to the server's planner.
import { type Check, type Field, KINDS, LIST, NODE, unknownKind, VALUE } from './node-kinds.js';
import { type Compiled, Refusal, type Scope } from './names.js';

/** Deepest nesting of parse nodes accepted (a hand-written query stays far below). */
export const MAX_DEPTH = 1000;

interface CompiledKind {
  /** The field's Field code, or for a typed field the kind of its body. */
  fields: ReadonlyMap<string, Exclude<Field, `@${string}`> | string>;
  check: Check | undefined;
}

// Maps, not plain objects: a field called `constructor` or `__proto__` must not find Object's.
const COMPILED: ReadonlyMap<string, CompiledKind> = new Map(
  [...KINDS].map(([kind, spec]) => [
    kind,
    { fields: new Map(Object.entries(spec.fields).map(([field, how]) => [field, typeof how === 'string' ? how.slice(1) : how])), check: spec.check },
  ]),
);

/** The set of node kinds the walker accepts, for documentation and tests. */
export const ACCEPTED_KINDS: readonly string[] = [...KINDS.keys()];

// The walk's stack, reused across calls (the walk is synchronous and never re-entered): parallel
// arrays indexed by `top`, never shrunk, so that scheduling a node allocates nothing: the value
// (a wrapped node, or a body when its kind is known), its kind, scope and depth.
const values: unknown[] = [];
const kinds: (string | undefined)[] = [];
const scopes: Scope[] = [];
let depths = new Int32Array(256);
let top = 0;
/** Highest `top` reached by the current walk: the slots to clear afterwards. */
let highest = 0;
let currentDepth = 0;

function push(value: unknown, childKind: string | undefined, childScope: Scope): void {
  if (top === depths.length) {
    const grown = new Int32Array(depths.length * 2);
    grown.set(depths);
    depths = grown;
  }
  values[top] = value;
  kinds[top] = childKind;
  scopes[top] = childScope;
  depths[top] = currentDepth + 1;
  top++;
  if (top > highest) highest = top;
}

/**
 * Walks every node under `root` (a wrapped node, or the body of a `kind` node), checking each
 * kind, field and name; throws a Refusal at the first construct not known safe.
 */
export function walkTree(root: unknown, kind: string | undefined, options: Compiled, scope: Scope): void {
  top = 0;
  highest = 0;
  currentDepth = -1;
  push(root, kind, scope);
  try {
    walk(options);
  } finally {
    // Keep no reference to the tree (nor its scopes).
    for (let i = 0; i < highest; i++) {
      values[i] = undefined;
      scopes[i] = EMPTY;
    }
    top = 0;
  }
}

const EMPTY: Scope = { has: () => false };

function walk(options: Compiled): void {
  while (top > 0) {
    top--;
    let value = values[top];
    let nodeKind = kinds[top];
    const currentScope = scopes[top] as Scope;
    currentDepth = depths[top] as number;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Refusal('a malformed parse tree is not allowed');
    if (nodeKind === undefined) {
      // A wrapped node: `{ Kind: body }`, or `{}` for NULL.
      for (const key in value) {
        if (nodeKind !== undefined) throw new Refusal('a malformed parse tree is not allowed');
        nodeKind = key;
      }
      if (nodeKind === undefined) continue;
      value = (value as Record<string, unknown>)[nodeKind];
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Refusal('a malformed parse tree is not allowed');
    }
    if (currentDepth > MAX_DEPTH) throw new Refusal(`the query nests deeper than ${MAX_DEPTH} levels (too complex)`);
    const spec = COMPILED.get(nodeKind);
    if (spec === undefined) throw unknownKind(nodeKind);
    const body = value as Record<string, unknown>;
    const childScope = spec.check === undefined ? currentScope : (spec.check(body, options, currentScope, push) ?? currentScope);
    for (const field in body) {
      const how = spec.fields.get(field);
      const child = body[field];
      if (how === undefined) throw new Refusal(`the field ${field} of ${nodeKind} is not allowed (a construct the validator does not know)`);
      if (how === VALUE) {
        if (child !== null && typeof child === 'object') throw new Refusal(`the field ${field} of ${nodeKind} is not allowed (a construct the validator does not know)`);
      } else if (how === NODE) {
        push(child, undefined, childScope);
      } else if (how === LIST) {
        if (!Array.isArray(child)) throw new Refusal('a malformed parse tree is not allowed');
        for (let i = child.length - 1; i >= 0; i--) push(child[i], undefined, childScope);
      } else if (typeof how === 'string') {
        push(child, how, childScope);
      }
    }
  }
}
