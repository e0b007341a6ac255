// A linear, lexical estimate of how deep a query's parse tree can be, taken before the parser
// sees it: the parser's C code recurses on the tree, and deep enough input exhausts the stack
// inside it (see parser.ts). The estimate is meant to be an upper bound: every bracket level
// (`(`, `[`, CASE … END) counts as several tree levels, and within a level every token that can
// chain (operators, one per character, and words) counts one, except where PostgreSQL builds a
// flat list (after a comma, AND, OR, WHEN, THEN, ELSE). UNION/INTERSECT/EXCEPT and JOIN chain
// across those separators, so they are counted apart and never reset.

/** Tree levels one bracket level may add (a scalar subquery: SubLink, SelectStmt, ResTarget, value). */
const LEVELS_PER_BRACKET = 4;

const OPERATOR_CHARS = new Set('+-*/<>=~!@#%^&|`?:'.split(''));
const FLAT_SEPARATORS = new Set(['and', 'or', 'when', 'then', 'else']);
const CHAINING_WORDS = new Set(['union', 'intersect', 'except', 'join']);

const isWordStart = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c >= 128;
const isWordChar = (c: number): boolean => isWordStart(c) || (c >= 48 && c <= 57) || c === 36;

/** Index just past the quoted text starting at `start` (the quote), honouring doubled quotes and, for E'', backslashes. */
function skipQuoted(sql: string, start: number, quote: string, backslashes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const ch = sql[i];
    if (backslashes && ch === '\\') i += 2;
    else if (ch === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return i;
}

/** What the scan found: an upper estimate of the tree's depth, and the number of tokens (roughly). */
export interface Shape {
  depth: number;
  tokens: number;
}

/**
 * Scans `sql` once; stops (with the count that passed) as soon as the depth passes `maxDepth` or
 * the tokens pass `maxTokens`.
 */
export function queryShape(sql: string, maxDepth: number, maxTokens: number): Shape {
  let tokens = 0;
  let deepest = 0;
  // Per open bracket level: tokens chained since the last flat separator, and set operations/joins.
  const chained: number[] = [0];
  const structural: number[] = [0];
  let outer = 0; // the sum over enclosing levels of what they had when the current one opened
  let i = 0;
  const n = sql.length;
  const current = (): number => outer + LEVELS_PER_BRACKET * chained.length + (chained.at(-1) as number) + (structural.at(-1) as number);
  const open = (): void => {
    outer += (chained.at(-1) as number) + (structural.at(-1) as number);
    chained.push(0);
    structural.push(0);
  };
  const close = (): void => {
    if (chained.length === 1) return;
    chained.pop();
    structural.pop();
    // The closed level stays part of the expression it sits in: count it as one chained token.
    outer -= (chained.at(-1) as number) + (structural.at(-1) as number);
    chained[chained.length - 1] = (chained.at(-1) as number) + 1;
  };
  while (i < n) {
    const c = sql.charCodeAt(i);
    const ch = sql[i] as string;
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (ch === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    if (c === 32 || (c >= 9 && c <= 13)) {
      i++;
      continue;
    }
    tokens++;
    if (tokens > maxTokens) return { depth: deepest, tokens };
    if (c >= 48 && c <= 57) {
      while (i < n && (isWordChar(sql.charCodeAt(i)) || sql[i] === '.')) i++;
      continue;
    }
    if (ch === "'") {
      i = skipQuoted(sql, i, "'", (sql[i - 1] === 'e' || sql[i - 1] === 'E') && !isWordChar(sql.charCodeAt(i - 2)));
      continue;
    }
    if (ch === '"') {
      i = skipQuoted(sql, i, '"', false);
      continue;
    }
    if (ch === '$' && !isWordChar(sql.charCodeAt(i - 1))) {
      const tag = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 70));
      if (tag !== null) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? n : end + tag[0].length;
        continue;
      }
    }
    if (ch === '(' || ch === '[') open();
    else if (ch === ')' || ch === ']') close();
    else if (ch === ',' || ch === ';') chained[chained.length - 1] = 0;
    else if (OPERATOR_CHARS.has(ch)) chained[chained.length - 1] = (chained.at(-1) as number) + 1;
    else if (isWordStart(c)) {
      let end = i + 1;
      while (end < n && isWordChar(sql.charCodeAt(end))) end++;
      const word = sql.slice(i, end).toLowerCase();
      i = end;
      if (FLAT_SEPARATORS.has(word)) chained[chained.length - 1] = 0;
      else if (CHAINING_WORDS.has(word)) structural[structural.length - 1] = (structural.at(-1) as number) + 1;
      else if (word === 'case') open();
      else if (word === 'end') close();
      else chained[chained.length - 1] = (chained.at(-1) as number) + 1;
      deepest = Math.max(deepest, current());
      if (deepest > maxDepth) return { depth: deepest, tokens };
      continue;
    }
    i++;
    deepest = Math.max(deepest, current());
    if (deepest > maxDepth) return { depth: deepest, tokens };
  }
  return { depth: deepest, tokens };
}
