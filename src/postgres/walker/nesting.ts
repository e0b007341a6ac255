// A linear, lexical estimate of how deep a query's parse tree can be, taken before the parser
// sees it: the parser's C code recurses on the tree, and deep enough input exhausts the stack
// inside it (see parser.ts). The estimate is meant to be an upper bound: every bracket level
// (`(`, `[`, CASE … END) counts as several tree levels, and within a level every token that can
// chain (operators, one per character, and words) counts one, except where PostgreSQL builds a
// flat list (after a comma, AND, OR, WHEN, THEN, ELSE). UNION/INTERSECT/EXCEPT and JOIN chain
// across those separators, so they are counted apart and never reset.

/** Tree levels one bracket level may add (a scalar subquery: SubLink, SelectStmt, ResTarget, value). */
const LEVELS_PER_BRACKET = 4;


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

/** Word kinds that matter: a flat separator resets the chain, a chaining word counts apart. */
function wordKind(sql: string, start: number, end: number): 'flat' | 'chain' | 'case' | 'end' | undefined {
  const length = end - start;
  if (length < 2 || length > 9) return undefined;
  switch (sql.slice(start, end).toLowerCase()) {
    case 'and':
    case 'or':
    case 'when':
    case 'then':
    case 'else':
      return 'flat';
    case 'union':
    case 'intersect':
    case 'except':
    case 'join':
      return 'chain';
    case 'case':
      return 'case';
    case 'end':
      return 'end';
    default:
      return undefined;
  }
}

const isOperatorChar = (c: number): boolean => c < 128 && OPERATOR_CODES[c] === 1;
const OPERATOR_CODES = new Uint8Array(128);
for (const ch of '+-*/<>=~!@#%^&|`?:') OPERATOR_CODES[ch.charCodeAt(0)] = 1;

/**
 * Scans `sql` once; stops (with the count that passed) as soon as the depth passes `maxDepth` or
 * the tokens pass `maxTokens`.
 */
export function queryShape(sql: string, maxDepth: number, maxTokens: number): Shape {
  let tokens = 0;
  let deepest = 0;
  // The innermost open bracket level: tokens chained since the last flat separator, and set
  // operations/joins. Enclosing levels are saved on `saved` (two numbers each).
  let chained = 0;
  let structural = 0;
  const saved: number[] = [];
  let outer = 0; // the sum over enclosing levels of what they had when the current one opened
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) {
      i++;
      continue;
    }
    if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? n : end + 1;
      continue;
    }
    if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        const d = sql.charCodeAt(i);
        if (d === 47 && sql.charCodeAt(i + 1) === 42) {
          depth++;
          i += 2;
        } else if (d === 42 && sql.charCodeAt(i + 1) === 47) {
          depth--;
          i += 2;
        } else i++;
      }
      continue;
    }
    tokens++;
    if (tokens > maxTokens) return { depth: deepest, tokens };
    if (c === 39) {
      const previous = sql.charCodeAt(i - 1);
      i = skipQuoted(sql, i, "'", (previous === 101 || previous === 69) && !isWordChar(sql.charCodeAt(i - 2)));
      continue;
    }
    if (c === 34) {
      i = skipQuoted(sql, i, '"', false);
      continue;
    }
    if (c === 36 && !isWordChar(sql.charCodeAt(i - 1))) {
      const tag = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 70));
      if (tag !== null) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end === -1 ? n : end + tag[0].length;
        continue;
      }
    }
    if (c >= 48 && c <= 57) {
      while (i < n && (isWordChar(sql.charCodeAt(i)) || sql.charCodeAt(i) === 46)) i++;
      continue;
    }
    let kind: 'open' | 'close' | 'flat' | 'chain' | 'count' | undefined;
    if (isWordStart(c)) {
      let end = i + 1;
      while (end < n && isWordChar(sql.charCodeAt(end))) end++;
      const word = wordKind(sql, i, end);
      kind = word === 'case' ? 'open' : word === 'end' ? 'close' : (word ?? 'count');
      i = end;
    } else {
      kind = c === 40 || c === 91 ? 'open' : c === 41 || c === 93 ? 'close' : c === 44 || c === 59 ? 'flat' : isOperatorChar(c) ? 'count' : undefined;
      i++;
    }
    if (kind === 'count') chained++;
    else if (kind === 'flat') chained = 0;
    else if (kind === 'chain') structural++;
    else if (kind === 'open') {
      outer += chained + structural;
      saved.push(chained, structural);
      chained = 0;
      structural = 0;
    } else if (kind === 'close' && saved.length > 0) {
      structural = saved.pop() as number;
      chained = saved.pop() as number;
      outer -= chained + structural;
      chained++; // the closed level is one term of the expression it sits in
    }
    const depth = outer + LEVELS_PER_BRACKET * (saved.length / 2 + 1) + chained + structural;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > maxDepth) return { depth: deepest, tokens };
    }
  }
  return { depth: deepest, tokens };
}

/**
 * The longest run of operator characters outside string literals and quoted identifiers,
 * comments included. PostgreSQL's lexer matches `/*` followed by operator characters, then backs
 * up (`yyless`), and does the same for an operator holding `/*` or `--`: a long run costs time
 * quadratic in its length (98 KB of `/*` took 13 s on the caller's thread). Linear.
 */
export function longestOperatorRun(sql: string, stopAbove: number): number {
  let longest = 0;
  let run = 0;
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isOperatorChar(c)) {
      run++;
      if (run > longest) {
        longest = run;
        if (longest > stopAbove) return longest;
      }
      i++;
      continue;
    }
    run = 0;
    if (c === 39) {
      const previous = sql.charCodeAt(i - 1);
      i = skipQuoted(sql, i, "'", (previous === 101 || previous === 69) && !isWordChar(sql.charCodeAt(i - 2)));
    } else if (c === 34) {
      i = skipQuoted(sql, i, '"', false);
    } else i++;
  }
  return longest;
}

