// A linear-time regular-expression matcher for argument rules: a Thompson NFA run as a Pike VM
// (every position is visited once per instruction at most), so no pattern and no input can make
// it backtrack. The language is a safe subset of JavaScript's: literals, `.`, escapes (\d \w \s
// and their negations, escaped punctuation), classes `[a-z_]` and `[^…]`, groups `(…)` and
// `(?:…)`, alternation `|`, and the quantifiers `* + ? {n} {n,} {n,m}`. No backreferences, no
// lookaround, no lazy quantifiers: those are refused when the config is read. A pattern always
// matches the whole value (a leading `^` and a trailing `$` are accepted and change nothing).

/** Longest pattern accepted, in characters. */
export const MAX_PATTERN_LENGTH = 512;
/** Longest value a pattern is run on, in characters; a longer value is no verdict (the rule refuses). */
export const MAX_REGEX_INPUT = 4096;
/** Largest program (instructions) a pattern may compile to, after expanding `{n,m}`. */
const MAX_PROGRAM = 4096;
const MAX_NESTING = 32;

type CharTest = (code: number) => boolean;
type Inst = { op: 'char'; test: CharTest } | { op: 'split'; x: number; y: number } | { op: 'jmp'; x: number } | { op: 'match' };

type Node =
  | { kind: 'char'; test: CharTest }
  | { kind: 'seq'; items: Node[] }
  | { kind: 'alt'; left: Node; right: Node }
  | { kind: 'repeat'; node: Node; min: number; max: number };

/** A compiled pattern. */
export interface BoundedRegex {
  readonly source: string;
  /** True when the whole `value` matches; `undefined` when `value` is longer than {@link MAX_REGEX_INPUT}. */
  test(value: string): boolean | undefined;
}

class PatternError extends Error {}

const isDigit: CharTest = (c) => c >= 48 && c <= 57;
const isWord: CharTest = (c) => isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isSpace: CharTest = (c) => c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x2028 || c === 0x2029 || c === 0xfeff;
const not = (t: CharTest): CharTest => (c) => !t(c);
const CLASS_ESCAPES: Readonly<Record<string, CharTest>> = { d: isDigit, D: not(isDigit), w: isWord, W: not(isWord), s: isSpace, S: not(isSpace) };
const LITERAL_ESCAPES: Readonly<Record<string, number>> = { n: 10, r: 13, t: 9, f: 12, v: 11, '0': 0 };

class Parser {
  pos = 0;
  depth = 0;
  constructor(readonly src: string) {}

  parse(): Node {
    const node = this.alternation();
    if (this.pos < this.src.length) throw new PatternError(`unexpected "${this.src[this.pos]}" at ${this.pos}`);
    return node;
  }

  alternation(): Node {
    let node = this.sequence();
    while (this.src[this.pos] === '|') {
      this.pos += 1;
      node = { kind: 'alt', left: node, right: this.sequence() };
    }
    return node;
  }

  sequence(): Node {
    const items: Node[] = [];
    while (this.pos < this.src.length && this.src[this.pos] !== '|' && this.src[this.pos] !== ')') {
      let atom = this.atom();
      atom = this.quantified(atom);
      items.push(atom);
    }
    return { kind: 'seq', items };
  }

  quantified(atom: Node): Node {
    const ch = this.src[this.pos];
    let min: number;
    let max: number;
    if (ch === '*') [min, max] = [0, Infinity];
    else if (ch === '+') [min, max] = [1, Infinity];
    else if (ch === '?') [min, max] = [0, 1];
    else if (ch === '{') {
      const m = /^\{(\d{1,3})(,(\d{0,3}))?\}/.exec(this.src.slice(this.pos));
      if (m === null) throw new PatternError(`a "{" that is not a {n,m} quantifier at ${this.pos}`);
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      if (max < min || min > 100 || (max !== Infinity && max > 100)) throw new PatternError('a {n,m} quantifier must have n <= m <= 100');
      this.pos += m[0].length - 1;
    } else return atom;
    this.pos += 1;
    const next = this.src[this.pos];
    if (next === '?' || next === '*' || next === '+' || next === '{') throw new PatternError('lazy and possessive quantifiers (and a quantifier on a quantifier) are not supported');
    return { kind: 'repeat', node: atom, min, max };
  }

  atom(): Node {
    const ch = this.src[this.pos] as string;
    this.pos += 1;
    switch (ch) {
      case '(': {
        if (this.src[this.pos] === '?') {
          if (this.src[this.pos + 1] !== ':') throw new PatternError('lookaround and named groups are not supported');
          this.pos += 2;
        }
        if (++this.depth > MAX_NESTING) throw new PatternError(`groups nest deeper than ${MAX_NESTING}`);
        const inner = this.alternation();
        this.depth -= 1;
        if (this.src[this.pos] !== ')') throw new PatternError('an unclosed group');
        this.pos += 1;
        return inner;
      }
      case '.':
        return { kind: 'char', test: (c) => c !== 10 && c !== 13 && c !== 0x2028 && c !== 0x2029 };
      case '[':
        return { kind: 'char', test: this.charClass() };
      case '\\':
        return { kind: 'char', test: this.escape(false) };
      case '*':
      case '+':
      case '?':
      case '{':
        throw new PatternError(`a quantifier with nothing to repeat at ${this.pos - 1}`);
      case '^':
      case '$':
        throw new PatternError('"^" and "$" are only allowed at the very start and end (patterns match the whole value)');
      default: {
        const code = ch.charCodeAt(0);
        return { kind: 'char', test: (c) => c === code };
      }
    }
  }

  escape(inClass: boolean): CharTest {
    const ch = this.src[this.pos];
    if (ch === undefined) throw new PatternError('a pattern ending in "\\"');
    this.pos += 1;
    const cls = CLASS_ESCAPES[ch];
    if (cls !== undefined) return cls;
    const literal = LITERAL_ESCAPES[ch];
    if (literal !== undefined) return (c) => c === literal;
    if (/[0-9]/.test(ch) || (!inClass && (ch === 'b' || ch === 'B'))) throw new PatternError('backreferences and word boundaries are not supported');
    if (/[A-Za-z]/.test(ch)) throw new PatternError(`the escape "\\${ch}" is not supported`);
    const code = ch.charCodeAt(0);
    return (c) => c === code;
  }

  charClass(): CharTest {
    const negated = this.src[this.pos] === '^';
    if (negated) this.pos += 1;
    const tests: CharTest[] = [];
    let first = true;
    while (this.src[this.pos] !== ']' || first) {
      first = false;
      if (this.pos >= this.src.length) throw new PatternError('an unclosed "["');
      let low: number | CharTest;
      if (this.src[this.pos] === '\\') {
        this.pos += 1;
        low = this.escape(true);
      } else {
        low = this.src.charCodeAt(this.pos);
        this.pos += 1;
      }
      if (typeof low === 'number' && this.src[this.pos] === '-' && this.src[this.pos + 1] !== ']' && this.pos + 1 < this.src.length) {
        this.pos += 1;
        const high = this.src.charCodeAt(this.pos);
        if (this.src[this.pos] === '\\') throw new PatternError('an escape as the end of a range is not supported');
        this.pos += 1;
        if (high < low) throw new PatternError('a character range out of order');
        const lo = low;
        tests.push((c) => c >= lo && c <= high);
      } else if (typeof low === 'number') {
        const code = low;
        tests.push((c) => c === code);
      } else tests.push(low);
    }
    this.pos += 1;
    const any: CharTest = (c) => tests.some((t) => t(c));
    return negated ? not(any) : any;
  }
}

function emit(node: Node, prog: Inst[]): void {
  if (prog.length > MAX_PROGRAM) throw new PatternError(`the pattern is too large (more than ${MAX_PROGRAM} steps once {n,m} is expanded)`);
  switch (node.kind) {
    case 'char':
      prog.push({ op: 'char', test: node.test });
      return;
    case 'seq':
      for (const item of node.items) emit(item, prog);
      return;
    case 'alt': {
      const split = { op: 'split', x: prog.length + 1, y: 0 } as Extract<Inst, { op: 'split' }>;
      prog.push(split);
      emit(node.left, prog);
      const jump = { op: 'jmp', x: 0 } as Extract<Inst, { op: 'jmp' }>;
      prog.push(jump);
      split.y = prog.length;
      emit(node.right, prog);
      jump.x = prog.length;
      return;
    }
    case 'repeat': {
      for (let i = 0; i < node.min; i++) emit(node.node, prog);
      if (node.max === Infinity) {
        const split = { op: 'split', x: prog.length + 1, y: 0 } as Extract<Inst, { op: 'split' }>;
        const start = prog.length;
        prog.push(split);
        emit(node.node, prog);
        prog.push({ op: 'jmp', x: start });
        split.y = prog.length;
        return;
      }
      const splits: Extract<Inst, { op: 'split' }>[] = [];
      for (let i = node.min; i < node.max; i++) {
        const split = { op: 'split', x: prog.length + 1, y: 0 } as Extract<Inst, { op: 'split' }>;
        splits.push(split);
        prog.push(split);
        emit(node.node, prog);
      }
      for (const split of splits) split.y = prog.length;
      return;
    }
  }
}

/**
 * Compiles `source` (see the module comment for the language).
 * @throws Error with a message naming what is not supported.
 */
export function compileBoundedRegex(source: string): BoundedRegex {
  if (source.length > MAX_PATTERN_LENGTH) throw new PatternError(`the pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  let body = source.startsWith('^') ? source.slice(1) : source;
  if (body.endsWith('$') && !body.endsWith('\\$')) body = body.slice(0, -1);
  const prog: Inst[] = [];
  emit(new Parser(body).parse(), prog);
  prog.push({ op: 'match' });
  const size = prog.length;
  const mark = new Uint32Array(size);
  // Thread lists and the closure stack, allocated once per pattern (a test never re-enters).
  let current = new Int32Array(size);
  let next = new Int32Array(size);
  const stack = new Int32Array(size * 2 + 2);
  let generation = 0;

  /** Adds `pc` and what it reaches through jmp/split to `list` (iteratively); returns the new length. */
  function add(list: Int32Array, length: number, pc: number): number {
    let top = 0;
    stack[top++] = pc;
    while (top > 0) {
      const at = stack[--top] as number;
      if (mark[at] === generation) continue;
      mark[at] = generation;
      const inst = prog[at] as Inst;
      if (inst.op === 'jmp') stack[top++] = inst.x;
      else if (inst.op === 'split') {
        stack[top++] = inst.y;
        stack[top++] = inst.x;
      } else list[length++] = at;
    }
    return length;
  }

  return {
    source,
    test(value) {
      if (value.length > MAX_REGEX_INPUT) return undefined;
      if (generation > 0xfffffff0 - 2 * MAX_REGEX_INPUT) {
        mark.fill(0);
        generation = 0;
      }
      generation += 1;
      let count = add(current, 0, 0);
      for (let i = 0; i < value.length && count > 0; i++) {
        const code = value.charCodeAt(i);
        generation += 1;
        let nextCount = 0;
        for (let t = 0; t < count; t++) {
          const pc = current[t] as number;
          const inst = prog[pc] as Inst;
          if (inst.op === 'char' && inst.test(code)) nextCount = add(next, nextCount, pc + 1);
        }
        [current, next] = [next, current];
        count = nextCount;
      }
      for (let t = 0; t < count; t++) if ((prog[current[t] as number] as Inst).op === 'match') return true;
      return false;
    },
  };
}
