// Name resolution as the server does it, for every kind of name a SELECT can hold: relations,
// functions, types, operators, collations and TABLESAMPLE methods. Names arrive from the parse
// tree, so quoting, case folding and U&"…" escapes are already applied (`"PG_CATALOG"` is a
// schema of that name, not pg_catalog).
import { KNOWN_DANGEROUS, SAFE_FUNCTIONS, SAFE_OPERATORS, SAFE_TYPES, XML_FUNCTIONS } from '../allowlists.js';
import { FIELD_NOTATION_FUNCTIONS } from './field-functions.js';

/** A construct the validator refuses; caught by validateSqlSync and turned into a verdict. */
export class Refusal extends Error {
  constructor(
    readonly reason: string,
    readonly statementType = 'SelectStmt',
  ) {
    super(reason);
  }
}

/** Where the names a query uses are written while it is validated (argument rules' SQL facts). */
export interface NameSink {
  /** A relation read, as `schema.table`, once per schema it may resolve to. */
  table(schema: string, relation: string): void;
  /** A function called (its last name part, as parsed), or a name that may be read as one. */
  func(name: string): void;
}

let sink: NameSink | undefined;

/** Runs `validate` (synchronous) with `collector` receiving every name resolved. */
export function collectingNames<T>(collector: NameSink, validate: () => T): T {
  sink = collector;
  try {
    return validate();
  } finally {
    sink = undefined;
  }
}

/**
 * The function a SQL value keyword calls, for the facts: `current_user` and `"current_user"()`
 * are one call (USER and CURRENT_ROLE too; CURRENT_CATALOG is current_database()).
 */
const VALUE_FUNCTIONS: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_DATE: 'current_date',
  SVFOP_CURRENT_TIME: 'current_time',
  SVFOP_CURRENT_TIME_N: 'current_time',
  SVFOP_CURRENT_TIMESTAMP: 'current_timestamp',
  SVFOP_CURRENT_TIMESTAMP_N: 'current_timestamp',
  SVFOP_LOCALTIME: 'localtime',
  SVFOP_LOCALTIME_N: 'localtime',
  SVFOP_LOCALTIMESTAMP: 'localtimestamp',
  SVFOP_LOCALTIMESTAMP_N: 'localtimestamp',
  SVFOP_CURRENT_ROLE: 'current_user',
  SVFOP_CURRENT_USER: 'current_user',
  SVFOP_USER: 'current_user',
  SVFOP_SESSION_USER: 'session_user',
  SVFOP_CURRENT_CATALOG: 'current_database',
  SVFOP_CURRENT_SCHEMA: 'current_schema',
};

/** A SQL value keyword (`CURRENT_USER`, `CURRENT_TIMESTAMP`…): a function call for the facts. */
export function noteValueFunction(op: unknown): void {
  if (sink === undefined) return;
  sink.func(typeof op === 'string' ? (VALUE_FUNCTIONS[op] ?? op.replace(/^SVFOP_/, '').toLowerCase()) : 'unknown');
}

/** Options compiled once per options object, so the walk does set look-ups only. */
export interface Compiled {
  explain: boolean;
  explainAnalyze: boolean;
  functions: ReadonlySet<string>;
  types: ReadonlySet<string>;
  tables: ReadonlySet<string> | undefined;
  schemas: ReadonlySet<string> | undefined;
  /** The pinned search_path, in order. */
  searchPath: readonly string[];
  searchPathSet: ReadonlySet<string>;
}

/** CTE names visible at a point of the query (unqualified references resolve to them first). */
export interface Scope {
  has(name: string): boolean;
}

/** The strings of a name list (`funcname`, `typeName.names`, `useOp`…); anything else is refused. */
export function nameParts(list: unknown, what: string): string[] {
  if (!Array.isArray(list) || list.length === 0) throw new Refusal(`a ${what} without a name is not allowed`);
  const parts: string[] = [];
  for (const item of list as unknown[]) {
    const sval = (item as { String?: { sval?: unknown } } | null)?.String?.sval;
    if (typeof sval !== 'string') throw new Refusal(`a ${what} name that is not a plain name is not allowed`);
    parts.push(sval);
  }
  return parts;
}

const XML_TYPES: ReadonlySet<string> = new Set(['xml']);

const quote = (parts: readonly string[]): string => parts.join('.');

/** Schemas of the system: readable only when named in allowSchemas (or the exact table in allowTables). */
function isSystemSchema(schema: string): boolean {
  return schema === 'pg_catalog' || schema === 'information_schema' || schema.startsWith('pg_toast') || schema.startsWith('pg_temp');
}

/**
 * pg_catalog is searched before the search_path for unqualified names. Every relation of
 * pg_catalog is named `pg_*` (checked against the server in the integration tests), and a future
 * release adds catalogs under that prefix too, so an unqualified `pg_*` may be a catalog.
 */
function mayBeCatalog(relation: string): boolean {
  return relation.startsWith('pg_');
}

function relationAllowed(schema: string, relation: string, options: Compiled): string | undefined {
  // `"public.ok"` is a table whose name holds a dot, not public.ok: such a name could match an
  // allowTables entry of another table, so it is refused whenever the tables are narrowed.
  if (options.tables !== undefined && (schema.includes('.') || relation.includes('.'))) return 'a quoted name holding a dot is ambiguous with allowTables';
  const exact = options.tables?.has(`${schema}.${relation}`) === true;
  if (options.schemas !== undefined && !options.schemas.has(schema)) return `it is in schema "${schema}", which is not allowed`;
  if (isSystemSchema(schema) && options.schemas?.has(schema) !== true && !exact) {
    return `it is in the system schema "${schema}" (catalogs are readable only when allowSchemas names that schema)`;
  }
  if (options.tables !== undefined && !exact && !(options.tables.has(relation) && options.searchPathSet.has(schema))) {
    return options.tables.has(relation) ? `"${relation}" in allowTables means the one in the search_path (${options.searchPath.join(', ')})` : 'it is not in allowTables';
  }
  return undefined;
}

/**
 * A relation read in FROM (or TABLE, TABLESAMPLE…). Unqualified, it is a CTE in scope, else the
 * first of pg_catalog then the search_path that holds it: every schema it could resolve to must
 * be allowed.
 */
export function checkRelation(range: Record<string, unknown>, scope: Scope, options: Compiled): void {
  const relation = range.relname;
  const schema = range.schemaname;
  if (typeof relation !== 'string') throw new Refusal('a table reference without a name is not allowed');
  if (range.catalogname !== undefined) throw new Refusal(`table "${relation}" is named with a database, which is not allowed`);
  if (schema === undefined) {
    if (scope.has(relation)) return;
    const candidates = mayBeCatalog(relation) ? ['pg_catalog', ...options.searchPath] : options.searchPath;
    for (const candidate of candidates) {
      sink?.table(candidate, relation);
      const why = relationAllowed(candidate, relation, options);
      if (why !== undefined) throw new Refusal(`table "${relation}" is not allowed: it may resolve to "${candidate}.${relation}", and ${why}`);
    }
    return;
  }
  if (typeof schema !== 'string') throw new Refusal('a table reference with a malformed schema is not allowed');
  sink?.table(schema, relation);
  const why = relationAllowed(schema, relation, options);
  if (why !== undefined) throw new Refusal(`table "${schema}.${relation}" is not allowed: ${why}`);
}

/** Host-allowed object: `s.f` exactly, or a bare `f` entry and `s` in the search_path, or unqualified `f`. */
function hostAllowed(parts: readonly string[], allowed: ReadonlySet<string>, options: Compiled): boolean {
  if (parts.length === 1) return allowed.has(parts[0] as string);
  const [schema, name] = parts as [string, string];
  return allowed.has(`${schema}.${name}`) || (allowed.has(name) && options.searchPathSet.has(schema));
}

/** A built-in: unqualified (pg_catalog is searched first) or `pg_catalog.`-qualified. */
function builtin(parts: readonly string[], allowed: ReadonlySet<string>): boolean {
  if (parts.length === 1) return allowed.has(parts[0] as string);
  return parts.length === 2 && parts[0] === 'pg_catalog' && allowed.has(parts[1] as string);
}

export function checkFunction(list: unknown, options: Compiled): void {
  const parts = nameParts(list, 'function');
  if (parts.length > 2) throw new Refusal(`function "${quote(parts)}" is not allowed (a name of more than two parts)`);
  sink?.func(parts.at(-1) as string);
  if (hostAllowed(parts, options.functions, options) || builtin(parts, SAFE_FUNCTIONS)) return;
  const name = parts.at(-1) as string;
  if (parts.length === 2 && parts[0] !== 'pg_catalog') {
    throw new Refusal(`function "${quote(parts)}" is not allowed (only built-in functions, unqualified or in pg_catalog, and those in allowFunctions)`);
  }
  const why = KNOWN_DANGEROUS.test(name)
    ? 'it has side effects or reaches outside the query'
    : XML_FUNCTIONS.test(name)
      ? 'XML functions run in libxml2, which ignores statement_timeout and cancel'
      : 'it is not on the allowlist of side-effect-free built-ins';
  throw new Refusal(`function "${name}" is not allowed: ${why}`);
}

/**
 * A field name after a relation or an expression (`t.f`, `(x).f`, `t.col.f`). PostgreSQL reads it
 * as the call `f(t)` when `t` has no column `f` (functional notation), so a name that is a
 * non-IMMUTABLE pg_catalog function callable with one argument, or an XML or known-dangerous one,
 * is refused unless it is a safe built-in or in allowFunctions. Column names are free otherwise:
 * the validator cannot know the columns, and IMMUTABLE one-argument functions are pure.
 */
export function checkFieldName(item: unknown, options: Compiled): void {
  const name = (item as { String?: { sval?: unknown } } | null)?.String?.sval;
  if (typeof name !== 'string') return; // `*` and subscripts carry no name
  if (SAFE_FUNCTIONS.has(name) || options.functions.has(name)) {
    sink?.func(name); // x.name may be the call name(x)
    return;
  }
  if (fieldNotationRefused(name)) {
    throw new Refusal(`"${name}" after a dot is not allowed: PostgreSQL reads x.${name} as the function call ${name}(x) when there is no such column, and that function is not on the allowlist`);
  }
}

/** Field names seen (column names, mostly), with whether they are refused: the two patterns run once per name. */
const fieldNotationVerdicts = new Map<string, boolean>();
/** Names remembered at most (agents repeat their column names; the memory starts afresh when full). */
const MAX_REMEMBERED_NAMES = 4096;

function fieldNotationRefused(name: string): boolean {
  let refused = fieldNotationVerdicts.get(name);
  if (refused === undefined) {
    refused = FIELD_NOTATION_FUNCTIONS.has(name) || KNOWN_DANGEROUS.test(name) || XML_FUNCTIONS.test(name);
    if (fieldNotationVerdicts.size >= MAX_REMEMBERED_NAMES) fieldNotationVerdicts.clear();
    fieldNotationVerdicts.set(name, refused);
  }
  return refused;
}

export function checkType(typeName: Record<string, unknown>, options: Compiled): void {
  const parts = nameParts(typeName.names, 'type');
  if (typeName.pct_type === true || typeName.setof === true) throw new Refusal(`type "${quote(parts)}" with %TYPE or SETOF is not allowed`);
  if (parts.length <= 2 && (hostAllowed(parts, options.types, options) || builtin(parts, SAFE_TYPES))) return;
  if (builtin(parts, XML_TYPES)) throw new Refusal('type "xml" is not allowed: its input runs libxml2, which ignores statement_timeout and cancel');
  throw new Refusal(`type "${quote(parts)}" is not allowed (built-in types only, and those in allowTypes: a domain's checks can call functions)`);
}

export function checkOperator(list: unknown): void {
  const parts = nameParts(list, 'operator');
  if (builtin(parts, SAFE_OPERATORS)) return;
  throw new Refusal(`operator "${quote(parts)}" is not allowed (built-in operators only, unqualified or in pg_catalog)`);
}

export function checkCollation(list: unknown, options: Compiled): void {
  const parts = nameParts(list, 'collation');
  if (parts.length === 1) return; // resolved like a type: pg_catalog first; a collation runs no code
  if (parts.length === 2 && (parts[0] === 'pg_catalog' || options.searchPathSet.has(parts[0] as string))) return;
  throw new Refusal(`collation "${quote(parts)}" is not allowed (only collations of pg_catalog or the search_path)`);
}

const TABLESAMPLE_METHODS: ReadonlySet<string> = new Set(['bernoulli', 'system']);

export function checkTablesample(list: unknown): void {
  const parts = nameParts(list, 'TABLESAMPLE method');
  if (builtin(parts, TABLESAMPLE_METHODS)) return;
  throw new Refusal(`TABLESAMPLE method "${quote(parts)}" is not allowed (only the built-in BERNOULLI and SYSTEM)`);
}
