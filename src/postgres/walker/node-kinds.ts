// The default-deny allowlist of the walker: every parse-node kind a read-only SELECT may contain,
// and for each kind every field it may have. A kind not listed here, or a field not listed for
// its kind (a new libpg-query grammar), is refused. Fields that hold names (functions, types,
// operators, collations, TABLESAMPLE methods, relations) are marked NAMES and checked by the
// kind's `check`; the walk never descends into them.
import {
  checkCollation,
  checkFieldName,
  checkFunction,
  checkOperator,
  checkRelation,
  checkTablesample,
  checkType,
  type Compiled,
  noteValueFunction,
  Refusal,
  type Scope,
} from './names.js';

/** A scalar (string, number, boolean): never an object. */
export const VALUE = 0;
/** One wrapped node, `{ Kind: {...} }` (or `{}`, PostgreSQL's NULL). */
export const NODE = 1;
/** A list of wrapped nodes. */
export const LIST = 2;
/** A list of names, read by the kind's check, not walked. */
export const NAMES = 3;
/** Handled by the kind's check (it pushes what it walks itself). */
export const BY_CHECK = 4;
/** Anything else: the unwrapped body of that kind (`typeName: TypeName`). */
export type Field = typeof VALUE | typeof NODE | typeof LIST | typeof NAMES | typeof BY_CHECK | `@${string}`;

export type Body = Record<string, unknown>;
/** Schedules `value` (a wrapped node, or the body of `kind`) for the walk, in `scope`. */
export type Push = (value: unknown, kind: string | undefined, scope: Scope) => void;
/** Checks one node; may return the scope for its children (a WITH clause opens one). */
export type Check = (body: Body, options: Compiled, scope: Scope, push: Push) => Scope | void;

export interface KindSpec {
  readonly fields: Readonly<Record<string, Field>>;
  readonly check?: Check;
}

const v = VALUE;
const n = NODE;
const l = LIST;

const WRITERS: Readonly<Record<string, string>> = { InsertStmt: 'INSERT', UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE', MergeStmt: 'MERGE' };

/** `DeleteStmt` → `DELETE`, `CreateTableAsStmt` → `CREATE TABLE AS`. */
export function describeStatement(kind: string): string {
  return WRITERS[kind] ?? kind.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/** Refused kinds a person may meet, named as they wrote them. */
const REFUSED: Readonly<Record<string, string>> = {
  RangeTableFunc: 'XMLTABLE (its XPath runs in libxml2, which ignores statement_timeout and cancel)',
  RangeTableFuncCol: 'XMLTABLE (its XPath runs in libxml2, which ignores statement_timeout and cancel)',
  XmlExpr: 'an XML expression (libxml2 ignores statement_timeout and cancel)',
  XmlSerialize: 'XMLSERIALIZE (libxml2 ignores statement_timeout and cancel)',
  CurrentOfExpr: 'WHERE CURRENT OF',
  SetToDefault: 'DEFAULT',
  MultiAssignRef: 'a multiple-column assignment',
  MergeSupportFunc: 'MERGE_ACTION()',
  LockingClause: 'FOR UPDATE/SHARE (it takes row locks)',
  IntoClause: 'SELECT ... INTO (it creates a table)',
  DefElem: 'an option list',
};

/** The refusal for a node kind the walker does not accept, naming the construct. */
export function unknownKind(kind: string): Refusal {
  if (kind in WRITERS) return new Refusal(`${WRITERS[kind]} is not allowed, not even inside a WITH clause`, kind);
  if (kind.endsWith('Stmt')) return new Refusal(`${describeStatement(kind)} is not allowed inside a query`, kind);
  return new Refusal(`${REFUSED[kind] ?? `the construct ${kind}`} is not allowed`);
}

const A_EXPR_OPERATOR_KINDS: ReadonlySet<string> = new Set([
  'AEXPR_OP', 'AEXPR_OP_ANY', 'AEXPR_OP_ALL', 'AEXPR_DISTINCT', 'AEXPR_NOT_DISTINCT', 'AEXPR_NULLIF', 'AEXPR_IN', 'AEXPR_LIKE', 'AEXPR_ILIKE', 'AEXPR_SIMILAR',
]);
// BETWEEN and friends name a keyword (`BETWEEN`), not an operator; they expand to `>=` and `<=`.
const A_EXPR_KEYWORD_KINDS: ReadonlySet<string> = new Set(['AEXPR_BETWEEN', 'AEXPR_NOT_BETWEEN', 'AEXPR_BETWEEN_SYM', 'AEXPR_NOT_BETWEEN_SYM']);

/** Checks the field names of `list` from index `from` on (see checkFieldName). */
function checkFieldNames(list: unknown, from: number, options: Compiled): void {
  if (!Array.isArray(list)) return;
  for (let i = from; i < list.length; i++) checkFieldName(list[i], options);
}

const EMPTY_SCOPE: Scope = new Set();
export { EMPTY_SCOPE };

/**
 * A SELECT: no INTO, no FOR UPDATE/SHARE; its WITH clause scoped as PostgreSQL scopes it. A
 * non-recursive CTE body sees the outer names and the *earlier* siblings only (its own name is
 * the real table); under WITH RECURSIVE every sibling and itself. The rest of the statement
 * sees them all.
 */
const selectCheck: Check = (body, _options, scope, push) => {
  if (body.intoClause !== undefined) throw unknownKind('IntoClause');
  if (body.lockingClause !== undefined) throw unknownKind('LockingClause');
  const withClause = body.withClause as Body | undefined;
  if (withClause === undefined) return scope;
  for (const key in withClause) if (key !== 'ctes' && key !== 'recursive' && key !== 'location') throw new Refusal(`the WITH clause field ${key} is not allowed`);
  const ctes = withClause.ctes;
  if (!Array.isArray(ctes)) throw new Refusal('a WITH clause without queries is not allowed');
  const recursive = withClause.recursive === true;
  // Each name's position among the siblings (the first, if repeated: the server refuses repeats).
  const positions = new Map<string, number>();
  (ctes as unknown[]).forEach((cte, position) => {
    const name = (cte as { CommonTableExpr?: Body } | null)?.CommonTableExpr?.ctename;
    if (typeof name !== 'string') throw new Refusal('a WITH clause item that is not a named query is not allowed');
    if (!positions.has(name)) positions.set(name, position);
  });
  const all = new WithScope(scope, positions, Infinity);
  (ctes as unknown[]).forEach((cte, position) => push(cte, undefined, recursive ? all : new WithScope(scope, positions, position)));
  return all;
};

/** The names of one WITH clause visible at a point: those at positions below `visible`, then the outer ones. */
class WithScope implements Scope {
  constructor(
    private readonly outer: Scope,
    private readonly positions: ReadonlyMap<string, number>,
    private readonly visible: number,
  ) {}

  has(name: string): boolean {
    const position = this.positions.get(name);
    return (position !== undefined && position < this.visible) || this.outer.has(name);
  }
}

const cteCheck: Check = (body) => {
  const query = body.ctequery as Body | undefined;
  let kind: string | undefined;
  for (const key in query ?? {}) kind = key;
  if (kind !== 'SelectStmt') throw unknownKind(kind ?? 'an empty WITH query');
};

/** Every node kind the walker accepts, with every field it may carry. */
export const KINDS: ReadonlyMap<string, KindSpec> = new Map<string, KindSpec>([
  ['SelectStmt', {
    fields: {
      distinctClause: l, intoClause: BY_CHECK, targetList: l, fromClause: l, whereClause: n, groupClause: l, groupDistinct: v, havingClause: n,
      windowClause: l, valuesLists: l, sortClause: l, limitOffset: n, limitCount: n, limitOption: v, lockingClause: BY_CHECK, withClause: BY_CHECK,
      op: v, all: v, larg: '@SelectStmt', rarg: '@SelectStmt',
    },
    check: selectCheck,
  }],
  ['CommonTableExpr', {
    fields: { ctename: v, aliascolnames: l, ctematerialized: v, ctequery: n, search_clause: '@CTESearchClause', cycle_clause: '@CTECycleClause', location: v, cterecursive: v, cterefcount: v },
    check: cteCheck,
  }],
  ['CTESearchClause', { fields: { search_col_list: l, search_breadth_first: v, search_seq_column: v, location: v } }],
  ['CTECycleClause', {
    fields: { cycle_col_list: l, cycle_mark_column: v, cycle_mark_value: n, cycle_mark_default: n, cycle_path_column: v, location: v },
  }],
  ['ResTarget', { fields: { name: v, indirection: l, val: n, location: v }, check: (body, options) => checkFieldNames(body.indirection, 0, options) }],
  // `t.f` and `t.col.f` may be the call f(t): every part after the first is checked as a function name too.
  ['ColumnRef', { fields: { fields: l, location: v }, check: (body, options) => checkFieldNames(body.fields, 1, options) }],
  ['A_Star', { fields: {} }],
  ['A_Const', { fields: { ival: '@Integer', fval: '@Float', boolval: '@Boolean', sval: '@String', bsval: '@BitString', isnull: v, location: v } }],
  ['Integer', { fields: { ival: v } }],
  ['Float', { fields: { fval: v } }],
  ['Boolean', { fields: { boolval: v } }],
  ['String', { fields: { sval: v } }],
  ['BitString', { fields: { bsval: v } }],
  ['List', { fields: { items: l } }],
  ['ParamRef', { fields: { number: v, location: v } }],
  ['A_Expr', {
    fields: { kind: v, name: NAMES, lexpr: n, rexpr: n, rexpr_list_start: v, rexpr_list_end: v, location: v },
    check: (body) => {
      const kind = body.kind as string;
      if (A_EXPR_OPERATOR_KINDS.has(kind)) checkOperator(body.name);
      else if (!A_EXPR_KEYWORD_KINDS.has(kind)) throw new Refusal(`the expression kind ${kind} is not allowed`);
    },
  }],
  ['TypeCast', { fields: { arg: n, typeName: '@TypeName', location: v } }],
  ['TypeName', {
    fields: { names: NAMES, typeOid: v, setof: v, pct_type: v, typmods: l, typemod: v, arrayBounds: l, location: v },
    check: (body, options) => checkType(body, options),
  }],
  ['FuncCall', {
    fields: {
      funcname: NAMES, args: l, agg_order: l, agg_filter: n, over: '@WindowDef', agg_within_group: v, agg_star: v, agg_distinct: v, func_variadic: v,
      funcformat: v, location: v,
    },
    check: (body, options) => checkFunction(body.funcname, options),
  }],
  ['WindowDef', { fields: { name: v, refname: v, partitionClause: l, orderClause: l, frameOptions: v, startOffset: n, endOffset: n, location: v } }],
  ['SortBy', {
    fields: { node: n, sortby_dir: v, sortby_nulls: v, useOp: NAMES, location: v },
    check: (body) => {
      if (body.useOp !== undefined) checkOperator(body.useOp);
    },
  }],
  ['A_Indices', { fields: { is_slice: v, lidx: n, uidx: n } }],
  // `(x).f` may be the call f(x).
  ['A_Indirection', { fields: { arg: n, indirection: l }, check: (body, options) => checkFieldNames(body.indirection, 0, options) }],
  ['A_ArrayExpr', { fields: { elements: l, list_start: v, list_end: v, location: v } }],
  ['CollateClause', { fields: { arg: n, collname: NAMES, location: v }, check: (body, options) => checkCollation(body.collname, options) }],
  ['SubLink', {
    fields: { subLinkType: v, subLinkId: v, testexpr: n, operName: NAMES, subselect: n, location: v },
    check: (body) => {
      if (body.operName !== undefined) checkOperator(body.operName);
    },
  }],
  ['BoolExpr', { fields: { boolop: v, args: l, location: v } }],
  ['NullTest', { fields: { arg: n, nulltesttype: v, argisrow: v, location: v } }],
  ['BooleanTest', { fields: { arg: n, booltesttype: v, location: v } }],
  ['CaseExpr', { fields: { casetype: v, casecollid: v, arg: n, args: l, defresult: n, location: v } }],
  ['CaseWhen', { fields: { expr: n, result: n, location: v } }],
  ['CoalesceExpr', { fields: { coalescetype: v, coalescecollid: v, args: l, location: v } }],
  ['MinMaxExpr', { fields: { minmaxtype: v, minmaxcollid: v, inputcollid: v, op: v, args: l, location: v } }],
  ['RowExpr', { fields: { args: l, row_typeid: v, row_format: v, colnames: l, location: v } }],
  ['SQLValueFunction', { fields: { op: v, type: v, typmod: v, location: v }, check: (body) => noteValueFunction(body.op) }],
  ['GroupingFunc', { fields: { args: l, location: v } }],
  ['GroupingSet', { fields: { kind: v, content: l, location: v } }],
  ['RangeVar', {
    fields: { catalogname: v, schemaname: v, relname: v, inh: v, relpersistence: v, alias: '@Alias', location: v },
    check: (body, options, scope) => checkRelation(body, scope, options),
  }],
  ['Alias', { fields: { aliasname: v, colnames: l } }],
  ['JoinExpr', { fields: { jointype: v, isNatural: v, larg: n, rarg: n, usingClause: l, join_using_alias: '@Alias', quals: n, alias: '@Alias', rtindex: v } }],
  ['RangeSubselect', { fields: { lateral: v, subquery: n, alias: '@Alias' } }],
  // ROWS FROM (f(), g() AS (a int)): `functions` holds Lists of [FuncCall, NULL or a List of ColumnDef].
  ['RangeFunction', { fields: { lateral: v, ordinality: v, is_rowsfrom: v, functions: l, alias: '@Alias', coldeflist: l } }],
  // A column definition list entry (`AS x(a int)`): name, type and collation, nothing that computes.
  ['ColumnDef', {
    fields: {
      colname: v, typeName: '@TypeName', compression: v, inhcount: v, is_local: v, is_not_null: v, is_from_type: v, storage: v, storage_name: v,
      identity: v, generated: v, collClause: '@CollateClause', collOid: v, location: v,
    },
  }],
  ['RangeTableSample', {
    fields: { relation: n, method: NAMES, args: l, repeatable: n, location: v },
    check: (body) => checkTablesample(body.method),
  }],
  // SQL/JSON (PostgreSQL 16+): types in RETURNING and JSON_TABLE columns are TypeName nodes, checked there.
  ['JsonFuncExpr', {
    fields: {
      op: v, column_name: v, context_item: '@JsonValueExpr', pathspec: n, passing: l, output: '@JsonOutput', on_empty: '@JsonBehavior', on_error: '@JsonBehavior',
      wrapper: v, quotes: v, location: v,
    },
  }],
  ['JsonOutput', { fields: { typeName: '@TypeName', returning: '@JsonReturning' } }],
  ['JsonReturning', { fields: { format: '@JsonFormat', typid: v, typmod: v } }],
  ['JsonFormat', { fields: { format_type: v, encoding: v, location: v } }],
  ['JsonValueExpr', { fields: { raw_expr: n, formatted_expr: n, format: '@JsonFormat' } }],
  ['JsonArgument', { fields: { val: '@JsonValueExpr', name: v } }],
  ['JsonBehavior', { fields: { btype: v, expr: n, coerce: v, location: v } }],
  ['JsonTable', {
    fields: {
      context_item: '@JsonValueExpr', pathspec: '@JsonTablePathSpec', passing: l, columns: l, on_error: '@JsonBehavior', alias: '@Alias', lateral: v, location: v,
    },
  }],
  ['JsonTableColumn', {
    fields: {
      coltype: v, name: v, typeName: '@TypeName', pathspec: '@JsonTablePathSpec', format: '@JsonFormat', wrapper: v, quotes: v, columns: l,
      on_empty: '@JsonBehavior', on_error: '@JsonBehavior', location: v,
    },
  }],
  ['JsonTablePathSpec', { fields: { string: n, name: v, name_location: v, location: v } }],
  ['JsonObjectConstructor', { fields: { exprs: l, output: '@JsonOutput', absent_on_null: v, unique: v, location: v } }],
  ['JsonArrayConstructor', { fields: { exprs: l, output: '@JsonOutput', absent_on_null: v, location: v } }],
  ['JsonArrayQueryConstructor', { fields: { query: n, output: '@JsonOutput', format: '@JsonFormat', absent_on_null: v, location: v } }],
  ['JsonAggConstructor', { fields: { output: '@JsonOutput', agg_filter: n, agg_order: l, over: '@WindowDef', location: v } }],
  ['JsonObjectAgg', { fields: { constructor: '@JsonAggConstructor' as Field, arg: '@JsonKeyValue', absent_on_null: v, unique: v } }],
  ['JsonArrayAgg', { fields: { constructor: '@JsonAggConstructor' as Field, arg: '@JsonValueExpr', absent_on_null: v } }],
  ['JsonKeyValue', { fields: { key: n, value: '@JsonValueExpr' } }],
  ['JsonIsPredicate', { fields: { expr: n, format: '@JsonFormat', item_type: v, unique_keys: v, location: v } }],
  ['JsonParseExpr', { fields: { expr: '@JsonValueExpr', output: '@JsonOutput', unique_keys: v, location: v } }],
  ['JsonScalarExpr', { fields: { expr: n, output: '@JsonOutput', location: v } }],
  ['JsonSerializeExpr', { fields: { expr: '@JsonValueExpr', output: '@JsonOutput', location: v } }],
]);
