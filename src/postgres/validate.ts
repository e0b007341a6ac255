import { loadModule, parseSync } from 'libpg-query';
import { KNOWN_DANGEROUS, SAFE_FUNCTIONS, SAFE_TYPES } from './allowlists.js';

/** Options of {@link validateSql}. */
export interface ValidateSqlOptions {
  /** Allow `EXPLAIN` of a SELECT (never `EXPLAIN ANALYZE`, which runs the query). @default true */
  allowExplain?: boolean | undefined;
  /** Allow `EXPLAIN ANALYZE` too (it executes the query, within the same envelope). @default false */
  allowExplainAnalyze?: boolean | undefined;
  /** Functions of your own to allow, by name (`my_schema.f` or `f`); only if they are side-effect free. */
  allowFunctions?: readonly string[] | undefined;
  /** Types of your own that values may be cast to (enums, composite types). */
  allowTypes?: readonly string[] | undefined;
  /** When set, only these tables (`schema.table` or `table`) may be read. */
  allowTables?: readonly string[] | undefined;
  /** When set, only tables in these schemas may be read. */
  allowSchemas?: readonly string[] | undefined;
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

/** Operators of PostgreSQL's built-in types. Others may be user-defined and call anything. */
const SAFE_OPERATORS = new Set(
  (
    '+ - * / % ^ |/ ||/ @ & | # ~ << >> = <> != < > <= >= || ~~ ~~* !~~ !~~* ~* !~ !~* @> <@ && ?| ?& ? -> ->> #> #>> #- @? @@ @@@ ' +
    '<-> <=> -|- &< &> <<| |>> &<| |&> <^ >^ ?# ?- ?-| ?|| ~= <<= >>='
  ).split(' '),
);

type Node = Record<string, unknown>;

class Refusal extends Error {
  constructor(
    readonly reason: string,
    readonly statementType: string,
  ) {
    super(reason);
  }
}

let loading: Promise<void> | undefined;

/** Loads the PostgreSQL parser (WebAssembly) once. */
export function loadParser(): Promise<void> {
  loading ??= loadModule();
  return loading;
}

function names(list: unknown): string[] {
  return Array.isArray(list) ? list.map((item) => String((item as { String?: { sval?: string } }).String?.sval ?? '')) : [];
}

/** Compiled options, so that the hot path does set look-ups only. */
interface Compiled {
  explain: boolean;
  explainAnalyze: boolean;
  functions: ReadonlySet<string>;
  types: ReadonlySet<string>;
  tables: ReadonlySet<string> | undefined;
  schemas: ReadonlySet<string> | undefined;
}

const compiledCache = new WeakMap<ValidateSqlOptions, Compiled>();

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
    };
    compiledCache.set(options, compiled);
  }
  return compiled;
}

/**
 * Decides whether `sql` is a single read-only query, on PostgreSQL's own grammar (libpg-query).
 * Allowed: exactly one `SELECT` (plain, `VALUES`, `TABLE t`, set operations), or `EXPLAIN` of
 * one; no `INTO`, no `FOR UPDATE/SHARE`, no data-modifying statement anywhere (CTEs included),
 * and every function, cast and operator anywhere in the tree on an allowlist of side-effect-free
 * built-ins, unqualified or `pg_catalog.`-qualified. Identifiers come from the parse tree, so
 * `U&"s\0065tval"` is `setval`. A string or comment that looks like SQL is just a string.
 * Call {@link loadParser} once before (or use {@link validateSql}, which does).
 */
export function validateSqlSync(sql: string, options: ValidateSqlOptions = {}): SqlVerdict {
  if (sql.length > MAX_SQL_LENGTH) return { allowed: false, reason: `the query is longer than ${MAX_SQL_LENGTH} characters`, statementType: 'unknown' };
  let tree: { stmts?: { stmt?: Node }[] };
  try {
    tree = parseSync(sql);
  } catch (error) {
    return { allowed: false, reason: `the query does not parse: ${(error as Error).message}`, statementType: 'unknown' };
  }
  const statements = tree.stmts ?? [];
  if (statements.length === 0) return { allowed: false, reason: 'the query is empty (or only comments)', statementType: 'empty' };
  if (statements.length > 1) return { allowed: false, reason: `only one statement is allowed, found ${statements.length}`, statementType: 'multiple' };
  const stmt = statements[0]?.stmt ?? {};
  const kind = Object.keys(stmt)[0] ?? 'unknown';
  const compiled = compile(options);
  try {
    let statementType = 'select';
    if (kind === 'ExplainStmt') {
      const explain = stmt.ExplainStmt as Node;
      if (!compiled.explain) throw new Refusal('EXPLAIN is not allowed', 'explain');
      const analyze = (explain.options as Node[] | undefined)?.some((option) => (option.DefElem as Node | undefined)?.defname === 'analyze');
      if (analyze === true && !compiled.explainAnalyze) throw new Refusal('EXPLAIN ANALYZE runs the query and is not allowed', 'explain');
      const inner = explain.query as Node | undefined;
      if (inner?.SelectStmt === undefined) throw new Refusal(`EXPLAIN of ${Object.keys(inner ?? {})[0] ?? 'that'} is not allowed`, 'explain');
      walk(inner, compiled, new Set());
      statementType = 'explain';
    } else if (kind === 'SelectStmt') {
      walk(stmt, compiled, new Set());
    } else {
      throw new Refusal(`${describeStatement(kind)} is not allowed: only SELECT is`, kind);
    }
    return { allowed: true, reason: 'a single read-only SELECT', statementType };
  } catch (error) {
    if (error instanceof Refusal) return { allowed: false, reason: error.reason, statementType: error.statementType };
    throw error;
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
export async function validateSql(sql: string, options: ValidateSqlOptions = {}): Promise<SqlVerdict> {
  await loadParser();
  return validateSqlSync(sql, options);
}

const WRITERS: Readonly<Record<string, string>> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
};

function describeStatement(kind: string): string {
  return WRITERS[kind] ?? kind.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/** Walks every node of a SELECT's tree; throws a Refusal at the first construct not known safe. */
function walk(node: unknown, options: Compiled, ctes: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, options, ctes);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Node)) {
    if (key in WRITERS) throw new Refusal(`${WRITERS[key]} is not allowed, not even inside a WITH clause`, key);
    if (key.endsWith('Stmt') && key !== 'SelectStmt') throw new Refusal(`${describeStatement(key)} is not allowed inside a query`, key);
    const inner = value as Node;
    switch (key) {
      case 'SelectStmt': {
        if (inner.intoClause !== undefined) throw new Refusal('SELECT ... INTO creates a table and is not allowed', 'SelectStmt');
        if (inner.lockingClause !== undefined) throw new Refusal('FOR UPDATE/SHARE takes row locks and is not allowed', 'SelectStmt');
        // A WITH clause names tables for this query and the ones nested in it, not for its siblings.
        const scope = new Set(ctes);
        for (const cte of ((inner.withClause as Node | undefined)?.ctes as Node[] | undefined) ?? []) {
          const name = (cte.CommonTableExpr as Node | undefined)?.ctename;
          if (typeof name === 'string') scope.add(name);
        }
        walk(inner, options, scope);
        continue;
      }
      case 'FuncCall':
        checkFunction(names(inner.funcname), options);
        break;
      case 'TypeCast':
        checkType(names((inner.typeName as Node | undefined)?.names), options);
        break;
      case 'A_Expr':
        // BETWEEN, LIKE, IN and friends carry keywords or built-in names; plain operators are checked.
        if (inner.kind === 'AEXPR_OP' || inner.kind === 'AEXPR_OP_ANY' || inner.kind === 'AEXPR_OP_ALL') checkOperator(names(inner.name));
        break;
      case 'RangeVar':
        checkTable(inner, options, ctes);
        break;
      case 'CurrentOfExpr':
      case 'CallStmt':
        throw new Refusal(`${key} is not allowed`, key);
    }
    walk(value, options, ctes);
  }
}

function checkFunction(parts: string[], options: Compiled): void {
  const qualified = parts.join('.');
  if (options.functions.has(qualified)) return;
  const name = parts.at(-1) ?? '';
  const schema = parts.length === 2 ? parts[0] : undefined;
  if (parts.length > 2 || (schema !== undefined && schema !== 'pg_catalog')) {
    throw new Refusal(`function "${qualified}" is not allowed (only built-in functions, unqualified or in pg_catalog)`, 'SelectStmt');
  }
  if (SAFE_FUNCTIONS.has(name) || (schema === undefined && options.functions.has(name))) return;
  const why = KNOWN_DANGEROUS.test(name) ? 'it has side effects or reaches outside the query' : 'it is not on the allowlist of side-effect-free built-ins';
  throw new Refusal(`function "${name}" is not allowed: ${why}`, 'SelectStmt');
}

function checkType(parts: string[], options: Compiled): void {
  const qualified = parts.join('.');
  const name = parts.at(-1) ?? '';
  const schema = parts.length === 2 ? parts[0] : undefined;
  if (options.types.has(qualified) || options.types.has(name)) return;
  if ((schema === undefined || schema === 'pg_catalog') && parts.length <= 2 && SAFE_TYPES.has(name)) return;
  throw new Refusal(`a cast to type "${qualified}" is not allowed (built-in types only: a domain's checks can call functions)`, 'SelectStmt');
}

function checkOperator(parts: string[]): void {
  const symbol = parts.at(-1) ?? '';
  const schema = parts.length === 2 ? parts[0] : undefined;
  if ((schema === undefined || schema === 'pg_catalog') && parts.length <= 2 && SAFE_OPERATORS.has(symbol)) return;
  throw new Refusal(`operator "${parts.join('.')}" is not allowed (built-in operators only)`, 'SelectStmt');
}

function checkTable(range: Node, options: Compiled, ctes: Set<string>): void {
  const schema = range.schemaname as string | undefined;
  const table = range.relname as string;
  if (schema === undefined && ctes.has(table)) return;
  if (options.schemas !== undefined && !options.schemas.has(schema ?? 'public')) {
    throw new Refusal(`table "${schema === undefined ? table : `${schema}.${table}`}" is in a schema that is not allowed`, 'SelectStmt');
  }
  if (options.tables !== undefined && !options.tables.has(table) && !options.tables.has(`${schema ?? 'public'}.${table}`)) {
    throw new Refusal(`table "${schema === undefined ? table : `${schema}.${table}`}" is not allowed`, 'SelectStmt');
  }
}
