import { beforeAll, describe, expect, it } from 'vitest';
import { type Compiled, Refusal } from './names.js';
import { queryShape } from './nesting.js';
import { EMPTY_SCOPE } from './node-kinds.js';
import { loadParser, parseSql } from './parser.js';
import { ACCEPTED_KINDS, walkTree } from './walk.js';

const options: Compiled = {
  explain: true,
  explainAnalyze: false,
  functions: new Set(),
  types: new Set(),
  tables: undefined,
  schemas: undefined,
  searchPath: ['public'],
  searchPathSet: new Set(['public']),
};

const refusal = (tree: unknown): string => {
  try {
    walkTree(tree, undefined, options, EMPTY_SCOPE);
  } catch (error) {
    if (error instanceof Refusal) return error.reason;
    throw error;
  }
  return 'allowed';
};

const select = (val: unknown): unknown => ({ SelectStmt: { targetList: [{ ResTarget: { val, location: 7 } }], op: 'SETOP_NONE' } });

describe('the default-deny walker', () => {
  it('refuses a node kind it does not know, naming it (a future grammar opens no hole)', () => {
    expect(refusal(select({ FutureNode: { arg: { A_Const: { ival: { ival: 1 } } } } }))).toBe('the construct FutureNode is not allowed');
    expect(refusal(select({ RangeTableFunc: {} }))).toMatch(/^XMLTABLE/);
    expect(refusal(select({ InsertStmt: {} }))).toBe('INSERT is not allowed, not even inside a WITH clause');
    expect(refusal(select({ CreateTableAsStmt: {} }))).toBe('CREATE TABLE AS is not allowed inside a query');
  });

  it('refuses a field a known kind does not have, and an object where a value belongs', () => {
    expect(refusal(select({ A_Const: { ival: { ival: 1 }, futureField: 1 } }))).toMatch(/field futureField of A_Const/);
    expect(refusal(select({ FuncCall: { funcname: [{ String: { sval: 'lower' } }], funcformat: { FuncCall: {} } } }))).toMatch(/field funcformat of FuncCall/);
    expect(refusal(select({ A_Const: { constructor: 1 } }))).toMatch(/field constructor of A_Const/);
    expect(refusal(select({ ColumnRef: { fields: { String: { sval: 'a' } } } }))).toMatch(/malformed/);
    expect(refusal(select({ A_Const: { ival: { ival: 1 } }, ColumnRef: { fields: [] } }))).toMatch(/malformed/);
  });

  it('refuses names that are not plain strings', () => {
    expect(refusal(select({ FuncCall: { funcname: [{ A_Star: {} }] } }))).toMatch(/not a plain name/);
    expect(refusal(select({ FuncCall: { funcname: [] } }))).toMatch(/without a name/);
  });

  it('walks iteratively: a tree 100,000 levels deep is refused as too deep, without recursion', () => {
    let node: unknown = { A_Const: { ival: { ival: 1 } } };
    for (let i = 0; i < 100_000; i++) node = { A_Expr: { kind: 'AEXPR_OP', name: [{ String: { sval: '+' } }], lexpr: node, rexpr: { A_Const: { ival: { ival: 1 } } } } };
    expect(refusal(select(node))).toMatch(/nests deeper than 1000 levels/);
  });

  it('accepts exactly these parse-node kinds', () => {
    expect([...ACCEPTED_KINDS].sort()).toEqual(
      [
        'A_ArrayExpr', 'A_Const', 'A_Expr', 'A_Indices', 'A_Indirection', 'A_Star', 'Alias', 'BitString', 'BoolExpr', 'Boolean', 'BooleanTest',
        'CTECycleClause', 'CTESearchClause', 'CaseExpr', 'CaseWhen', 'CoalesceExpr', 'CollateClause', 'ColumnDef', 'ColumnRef', 'CommonTableExpr',
        'Float', 'FuncCall', 'GroupingFunc', 'GroupingSet', 'Integer', 'JoinExpr', 'JsonAggConstructor', 'JsonArgument', 'JsonArrayAgg',
        'JsonArrayConstructor', 'JsonArrayQueryConstructor', 'JsonBehavior', 'JsonFormat', 'JsonFuncExpr', 'JsonIsPredicate', 'JsonKeyValue',
        'JsonObjectAgg', 'JsonObjectConstructor', 'JsonOutput', 'JsonParseExpr', 'JsonReturning', 'JsonScalarExpr', 'JsonSerializeExpr', 'JsonTable',
        'JsonTableColumn', 'JsonTablePathSpec', 'JsonValueExpr', 'List', 'MinMaxExpr', 'NullTest', 'ParamRef', 'RangeFunction', 'RangeSubselect',
        'RangeTableSample', 'RangeVar', 'ResTarget', 'RowExpr', 'SQLValueFunction', 'SelectStmt', 'SortBy', 'String', 'SubLink', 'TypeCast',
        'TypeName', 'WindowDef',
      ].sort(),
    );
  });
});

describe('the nesting estimate taken before parsing', () => {
  it('is at least the depth of the parse tree for chains, brackets and set operations', () => {
    expect(queryShape(`SELECT ${Array(600).fill('1').join('+')}`, 10_000, 100_000).depth).toBeGreaterThanOrEqual(600);
    expect(queryShape(`SELECT 1 ${'+-'.repeat(300)} 1`, 10_000, 100_000).depth).toBeGreaterThanOrEqual(600);
    expect(queryShape(`SELECT ${'(SELECT '.repeat(200)}1${')'.repeat(200)}`, 10_000, 100_000).depth).toBeGreaterThanOrEqual(800);
    expect(queryShape(`SELECT a, b${' UNION SELECT a, b'.repeat(500)}`, 10_000, 100_000).depth).toBeGreaterThanOrEqual(500);
    expect(queryShape(`SELECT ${'CASE WHEN a THEN '.repeat(200)}1${' END'.repeat(200)}`, 10_000, 100_000).depth).toBeGreaterThanOrEqual(800);
  });

  it('stops as soon as a limit is passed', () => {
    const shape = queryShape(`SELECT ${'('.repeat(90_000)}`, 1000, 100_000);
    expect(shape.depth).toBeGreaterThan(1000);
    expect(shape.tokens).toBeLessThan(300);
    expect(queryShape(`SELECT ${Array(50_000).fill('1').join(',')}`, 1000, 10_000).tokens).toBe(10_001);
  });
});

describe('the parser instances', () => {
  beforeAll(() => loadParser());
  const REFERENCE = 'SELECT a, b FROM t WHERE x = (SELECT max(y) FROM u WHERE u.id = t.id AND (1 + 2 * 3) > 4) ORDER BY 1';
  // Deep enough that the C recursion of the parser exhausts the stack (no pre-check at this level).
  const OVERFLOW = `SELECT ${Array(24_000).fill("'a'").join('||')}`;

  it('replaces an instance whose C code overflowed: 40 overflows (the shared instance broke after ~30) and every parse stays right', async () => {
    const reference = JSON.stringify(parseSql(REFERENCE));
    expect(reference).toMatch(/"SelectStmt"/);
    for (let round = 0; round < 40; round++) {
      expect(parseSql(OVERFLOW)).toMatchObject({ kind: 'too-complex' });
      await loadParser();
      expect(JSON.stringify(parseSql(REFERENCE))).toBe(reference);
    }
  }, 60_000);

  it('reports a syntax error as such', () => {
    expect(parseSql('SELEC 1')).toMatchObject({ kind: 'syntax', error: expect.stringMatching(/syntax error/) as unknown });
  });
});
