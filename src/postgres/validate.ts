import { type Compiled, Refusal } from './walker/names.js';
import { describeStatement, EMPTY_SCOPE } from './walker/node-kinds.js';
import { longestOperatorRun, queryShape } from './walker/nesting.js';
import { loadParser, parseSql } from './walker/parser.js';
import { MAX_DEPTH, walkTree } from './walker/walk.js';

export { loadParser };

/** Options of {@link validateSql}. */
export interface ValidateSqlOptions {
  /** Allow `EXPLAIN` of a SELECT (never `EXPLAIN ANALYZE`, which runs the query). @default true */
  allowExplain?: boolean | undefined;
  /** Allow `EXPLAIN ANALYZE` too (it executes the query, within the same envelope). @default false */
  allowExplainAnalyze?: boolean | undefined;
  /**
   * Functions of your own to allow, by name, only if they are side-effect free: `my_schema.f`,
   * or `f`, which allows `f` unqualified and `s.f` for `s` in the search path.
   */
  allowFunctions?: readonly string[] | undefined;
  /** Types of your own that values may be cast to (enums, composite types); named as allowFunctions. */
  allowTypes?: readonly string[] | undefined;
  /**
   * When set, only these tables may be read: `schema.table`, or `table`, which means the one in
   * a searchPath schema (`other.table` is not matched by `table`).
   */
  allowTables?: readonly string[] | undefined;
  /**
   * When set, only tables in these schemas may be read. Catalogs (`pg_catalog`,
   * `information_schema`) are readable only when named here (or as `schema.table` in
   * allowTables), whatever else is set.
   */
  allowSchemas?: readonly string[] | undefined;
  /**
   * The search_path the query runs under, in order (the connector's `searchPath`). Unqualified
   * names resolve against pg_catalog first, then these schemas.
   * @default ['public']
   */
  searchPath?: readonly string[] | undefined;
}

/** The verdict on one SQL text: data, not an exception. */
export interface SqlVerdict {
  allowed: boolean;
  /** Why, naming the construct: `function "setval" is not allowed`. */
  reason: string;
  /** `select`, `explain`, or the refused statement's kind, such as `DeleteStmt`. */
  statementType: string;
}

/** Longest SQL text accepted, in characters. */
export const MAX_SQL_LENGTH = 100_000;

/** Most tokens (words, numbers, strings, operator characters, punctuation) in one query. */
const MAX_SQL_TOKENS = 10_000;
/** Longest run of operator characters (`/*`, `+-`…, comments included) in a long query: see longestOperatorRun. */
const MAX_OPERATOR_RUN = 256;

const DEFAULT_SEARCH_PATH = ['public'];

const compiledCache = new WeakMap<ValidateSqlOptions, Compiled>();
/** The default options, one object, so their compiled form is cached like any other. */
const NO_OPTIONS: ValidateSqlOptions = Object.freeze({});

function compile(options: ValidateSqlOptions): Compiled {
  let compiled = compiledCache.get(options);
  if (compiled === undefined) {
    compiled = {
      explain: options.allowExplain ?? true,
      explainAnalyze: options.allowExplainAnalyze ?? false,
      functions: new Set(options.allowFunctions ?? []),
      types: new Set(options.allowTypes ?? []),
      tables: options.allowTables === undefined ? undefined : new Set(options.allowTables),
      schemas: options.allowSchemas === undefined ? undefined : new Set(options.allowSchemas),
      searchPath: [...(options.searchPath ?? DEFAULT_SEARCH_PATH)],
      searchPathSet: new Set(options.searchPath ?? DEFAULT_SEARCH_PATH),
    };
    compiledCache.set(options, compiled);
  }
  return compiled;
}

/** EXPLAIN options accepted (`EXPLAIN (FORMAT json) …`); ANALYZE only when allowed. */
const EXPLAIN_OPTIONS: ReadonlySet<string> = new Set(['analyze', 'verbose', 'costs', 'settings', 'buffers', 'wal', 'timing', 'summary', 'format', 'generic_plan', 'serialize', 'memory']);

type Node = Record<string, unknown>;

const refused = (reason: string, statementType: string): SqlVerdict => ({ allowed: false, reason, statementType });

/** The one key of a wrapped node, `{ SelectStmt: {...} }` → `SelectStmt`. */
function kindOf(node: Node | undefined): string | undefined {
  let kind: string | undefined;
  for (const key in node ?? {}) kind = key;
  return kind;
}

function checkExplain(explain: Node, options: Compiled): Node {
  if (!options.explain) throw new Refusal('EXPLAIN is not allowed', 'explain');
  for (const option of (explain.options as unknown[] | undefined) ?? []) {
    const element = (option as { DefElem?: Node } | null)?.DefElem;
    const name = element?.defname;
    if (typeof name !== 'string' || !EXPLAIN_OPTIONS.has(name)) throw new Refusal(`the EXPLAIN option ${String(name)} is not allowed`, 'explain');
    const arg = kindOf(element?.arg as Node | undefined);
    if (arg !== undefined && arg !== 'String' && arg !== 'Integer' && arg !== 'Boolean') throw new Refusal(`the EXPLAIN option ${name} has a value that is not allowed`, 'explain');
    // Any ANALYZE, even ANALYZE false, counts: the validator does not reason about option values.
    if (name === 'analyze' && !options.explainAnalyze) throw new Refusal('EXPLAIN ANALYZE runs the query and is not allowed', 'explain');
  }
  const inner = explain.query as Node | undefined;
  const kind = kindOf(inner);
  if (kind !== 'SelectStmt') throw new Refusal(`EXPLAIN of ${kind ?? 'that'} is not allowed`, 'explain');
  return inner as Node;
}

/**
 * Decides whether `sql` is a single read-only query, on PostgreSQL's own grammar (libpg-query).
 * Allowed: exactly one `SELECT` (plain, `VALUES`, `TABLE t`, set operations), or `EXPLAIN` of
 * one. The walk is default-deny: every parse-node kind and every field must be on the walker's
 * allowlist (src/postgres/walker/node-kinds.ts), so no `INTO`, no `FOR UPDATE/SHARE`, no
 * data-modifying statement anywhere (CTEs included), no XMLTABLE; every function, cast, type,
 * operator, collation and TABLESAMPLE method is a side-effect-free built-in (unqualified or
 * `pg_catalog.`-qualified) or one the host allowed; every table is resolved as the server
 * resolves it (CTE scopes, then pg_catalog, then the search path) and must be allowed.
 * Identifiers come from the parse tree, so `U&"s\0065tval"` is `setval`. A string or comment
 * that looks like SQL is just a string. Never throws, never recurses on the input: too deep or
 * too long a query is refused. Call {@link loadParser} once before (or use {@link validateSql}).
 */
export function validateSqlSync(sql: string, options: ValidateSqlOptions = NO_OPTIONS): SqlVerdict {
  if (sql.length > MAX_SQL_LENGTH) return refused(`the query is longer than ${MAX_SQL_LENGTH} characters`, 'unknown');
  // Deep input is refused before the parser sees it: the parser's C recursion is where a stack runs
  // out. Many tokens make a large tree (about 40 bytes of JSON per character), parsed on the
  // caller's thread. A text of at most 2 × MAX_DEPTH characters can be neither too deep for the
  // parser (at most about MAX_DEPTH levels: the walk refuses past that) nor too many tokens, so
  // the scan is skipped there (it is a twentieth of the time of a short query).
  if (sql.length > 2 * MAX_DEPTH) {
    const shape = queryShape(sql, MAX_DEPTH, MAX_SQL_TOKENS);
    if (shape.depth > MAX_DEPTH) return refused(`the query nests deeper than ${MAX_DEPTH} levels (too complex)`, 'unknown');
    if (shape.tokens > MAX_SQL_TOKENS) return refused(`the query has more than ${MAX_SQL_TOKENS} tokens (too complex: pass long lists as an array parameter)`, 'unknown');
    // Below 2 × MAX_DEPTH characters the lexer's quadratic back-up costs at most a few ms.
    if (longestOperatorRun(sql, MAX_OPERATOR_RUN) > MAX_OPERATOR_RUN) {
      return refused(`the query has a run of more than ${MAX_OPERATOR_RUN} operator characters (comments included; too complex to lex)`, 'unknown');
    }
  }
  const parsed = parseSql(sql);
  if ('error' in parsed) {
    if (parsed.kind === 'syntax') return refused(`the query does not parse: ${parsed.error}`, 'unknown');
    // `unavailable` is not a verdict on this text: callers that cache verdicts must not keep it.
    return parsed.kind === 'unavailable' ? refused(parsed.error, 'unavailable') : refused(`the query is too complex to parse (${parsed.error})`, 'unknown');
  }
  const statements = parsed.tree.stmts ?? [];
  if (statements.length === 0) return refused('the query is empty (or only comments)', 'empty');
  if (statements.length > 1) return refused(`only one statement is allowed, found ${statements.length}`, 'multiple');
  const stmt = statements[0]?.stmt;
  const kind = kindOf(stmt) ?? 'unknown';
  const compiled = compile(options);
  try {
    if (kind === 'ExplainStmt') {
      walkTree(checkExplain(stmt?.ExplainStmt as Node, compiled), undefined, compiled, EMPTY_SCOPE);
      return { allowed: true, reason: 'a single read-only SELECT', statementType: 'explain' };
    }
    if (kind !== 'SelectStmt') throw new Refusal(`${describeStatement(kind)} is not allowed: only SELECT is`, kind);
    walkTree(stmt, undefined, compiled, EMPTY_SCOPE);
    return { allowed: true, reason: 'a single read-only SELECT', statementType: 'select' };
  } catch (error) {
    if (error instanceof Refusal) return refused(error.reason, error.statementType);
    // A defect of the walker must still be a verdict, never an exception out of the validator.
    return refused(`the query could not be validated (${error instanceof Error ? error.name : 'error'})`, 'unknown');
  }
}

/**
 * {@link validateSqlSync}, after loading the parser on first use.
 *
 * @example
 * ```ts
 * await validateSql("SELECT '--'; DROP TABLE t"); // { allowed: false, reason: 'only one statement is allowed, found 2', ... }
 * await validateSql('SELECT "update" FROM t');    // { allowed: true, statementType: 'select', ... }
 * ```
 */
export async function validateSql(sql: string, options: ValidateSqlOptions = NO_OPTIONS): Promise<SqlVerdict> {
  await loadParser();
  return validateSqlSync(sql, options);
}
