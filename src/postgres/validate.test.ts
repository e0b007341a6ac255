import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadParser, validateSql, validateSqlSync } from './validate.js';

beforeAll(() => loadParser());

const allowed = (sql: string, options = {}): boolean => validateSqlSync(sql, options).allowed;

describe('validateSql', () => {
  it.each([
    'SELECT 1',
    'SELECT * FROM t WHERE id = $1',
    'SELECT "update" FROM t',
    "SELECT 'DROP TABLE t'",
    "SELECT '--'",
    'SELECT a.x, b.y FROM a JOIN b ON a.id = b.a_id ORDER BY 1 LIMIT 10',
    'WITH r AS (SELECT id FROM t) SELECT count(*) FROM r',
    'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT i FROM n',
    'SELECT id, row_number() OVER (PARTITION BY g ORDER BY id) FROM t',
    'VALUES (1, 2), (3, 4)',
    'TABLE t',
    'SELECT 1 UNION SELECT 2 EXCEPT SELECT 3',
    "SELECT extract(year FROM now()), trim(' x '), 'a' || 'b', x::text, CAST(y AS integer), coalesce(a, b) FROM t",
    'SELECT * FROM t WHERE a BETWEEN 1 AND 2 AND b IN (1, 2) AND c LIKE $1 AND d IS NOT NULL',
    "SELECT data->>'name', data @> '{}'::jsonb FROM docs",
    'SELECT * FROM generate_series(1, 3) AS g',
    'EXPLAIN SELECT * FROM t',
  ])('allows %s', (sql) => {
    expect(validateSqlSync(sql)).toMatchObject({ allowed: true });
  });

  it.each([
    ["SELECT '--'; DROP TABLE t", /one statement/],
    ['SELECT 1; COMMIT; DROP TABLE t', /one statement/],
    ['DELETE FROM t', /DELETE is not allowed/],
    ['UPDATE t SET a = 1', /UPDATE/],
    ['INSERT INTO t VALUES (1)', /INSERT/],
    ['DROP TABLE t', /DROP/],
    ['SET TRANSACTION READ WRITE', /only SELECT/],
    ['COMMIT', /only SELECT/],
    ["COPY t TO '/tmp/x'", /only SELECT/],
    ['WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x', /DELETE is not allowed, not even inside a WITH/],
    ['SELECT * INTO t2 FROM t', /INTO/],
    ['SELECT * FROM t FOR UPDATE', /FOR UPDATE/],
    ["SELECT setval('s', 1)", /"setval".*side effects/],
    ['SELECT U&"s\\0065tval"(\'s\', 1)', /"setval"/],
    ["SELECT nextval('s')", /"nextval"/],
    ['SELECT pg_sleep(10)', /"pg_sleep"/],
    ["SELECT pg_read_binary_file('/etc/passwd')", /"pg_read_binary_file"/],
    ["SELECT lo_from_bytea(0, 'x')", /"lo_from_bytea"/],
    ["SELECT * FROM dblink('host=x', 'select 1') AS t(a int)", /"dblink"/],
    ["SELECT set_config('search_path', 'x', false)", /"set_config"/],
    ['SELECT * FROM writer()', /"writer".*allowlist/],
    ['SELECT public.writer()', /"public\.writer"/],
    ['SELECT 1 FROM t WHERE a = (SELECT pg_advisory_lock(1))', /"pg_advisory_lock"/],
    ["SELECT query_to_xml('delete from t', true, true, '')", /"query_to_xml"/],
    ['SELECT txid_current()', /"txid_current"/],
    ["SELECT pg_notify('c', 'x')", /"pg_notify"/],
    ["SELECT 'x'::my_domain", /type "my_domain" is not allowed/],
    ['SELECT a OPERATOR(public.===) b FROM t', /operator "public\.==="/],
    ['EXPLAIN ANALYZE SELECT 1', /ANALYZE/],
    ['EXPLAIN DELETE FROM t', /EXPLAIN of DeleteStmt/],
    ['', /empty/],
    ['-- just a comment', /empty/],
    ['SELEC 1', /does not parse/],
  ])('refuses %s', (sql, reason) => {
    const verdict = validateSqlSync(sql);
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toMatch(reason);
  });

  it('allows what the host allows by name, and honours table and schema allowlists', () => {
    expect(allowed('SELECT public.safe_fn(1)', { allowFunctions: ['public.safe_fn'] })).toBe(true);
    expect(allowed("SELECT 'a'::mood", { allowTypes: ['mood'] })).toBe(true);
    expect(allowed('SELECT * FROM t', { allowTables: ['t'] })).toBe(true);
    expect(allowed('SELECT * FROM secret', { allowTables: ['t'] })).toBe(false);
    expect(allowed('WITH secret AS (SELECT 1) SELECT * FROM secret', { allowTables: ['t'] })).toBe(true);
    // A CTE in a sibling subquery does not hide the real table of the same name.
    expect(allowed('SELECT * FROM (WITH secret AS (SELECT 1) SELECT * FROM secret) s, secret', { allowTables: ['t'] })).toBe(false);
    expect(allowed('SELECT * FROM pg_catalog.pg_authid', { allowSchemas: ['public'] })).toBe(false);
    expect(allowed('EXPLAIN SELECT 1', { allowExplain: false })).toBe(false);
    expect(allowed('EXPLAIN ANALYZE SELECT 1', { allowExplainAnalyze: true })).toBe(true);
  });

  it('loads the parser itself when called asynchronously', async () => {
    expect(await validateSql('SELECT 1')).toEqual({ allowed: true, reason: 'a single read-only SELECT', statementType: 'select' });
  });

  it('allows random safe SELECTs from a small generator (property)', () => {
    const column = fc.constantFrom('id', 'name', '"update"', 'price', 'created_at');
    const fn = fc.constantFrom('lower', 'upper', 'length', 'abs', 'coalesce', 'round', 'md5');
    const literal = fc.oneof(fc.integer({ min: -1000, max: 1000 }).map(String), fc.string({ maxLength: 12 }).map((s) => `'${s.replaceAll("'", "''")}'`));
    const expr = fc.oneof(column, literal, fc.tuple(fn, column).map(([f, c]) => `${f}(${c})`));
    const op = fc.constantFrom('=', '<>', '<', '>=', 'LIKE');
    const query = fc
      .record({
        cols: fc.array(expr, { minLength: 1, maxLength: 4 }),
        where: fc.option(fc.tuple(column, op, literal), { nil: undefined }),
        limit: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
        order: fc.boolean(),
      })
      .map(({ cols, where, limit, order }) =>
        [`SELECT ${cols.join(', ')} FROM items`, where && `WHERE ${where.join(' ')}`, order && 'ORDER BY 1', limit && `LIMIT ${limit}`].filter(Boolean).join(' '),
      );
    fc.assert(
      fc.property(query, (sql) => {
        expect(validateSqlSync(sql)).toMatchObject({ allowed: true });
      }),
    );
  });
});
