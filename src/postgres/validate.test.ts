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

  describe('CTE scopes, exactly as PostgreSQL (finding 1)', () => {
    const only = { allowTables: ['t'] };
    it.each([
      'WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets',
      'WITH a AS (SELECT * FROM secrets), secrets AS (SELECT 1) SELECT * FROM a',
      'SELECT * FROM (WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets) x',
      'SELECT 1 FROM t WHERE EXISTS (WITH secrets AS (SELECT * FROM secrets) SELECT 1 FROM secrets)',
      'SELECT (WITH secrets AS (SELECT * FROM secrets) SELECT count(*) FROM secrets)',
      'WITH x AS (SELECT 1) SELECT * FROM x, (WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets) y',
      'WITH a AS (WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets) SELECT * FROM a',
      'WITH secrets AS (SELECT 1) SELECT * FROM public.secrets',
      '(WITH secrets AS (SELECT 1) SELECT * FROM secrets) UNION ALL SELECT * FROM secrets',
      'SELECT * FROM secrets UNION ALL (WITH secrets AS (SELECT 1) SELECT * FROM secrets)',
      'WITH "Secrets" AS (SELECT 1) SELECT * FROM secrets',
    ])('refuses %s', (sql) => {
      expect(validateSqlSync(sql, only)).toMatchObject({ allowed: false, reason: expect.stringMatching(/table "(public\.)?secrets" is not allowed/) as unknown });
    });

    it.each([
      'WITH secrets AS (SELECT 1), a AS (SELECT * FROM secrets) SELECT * FROM a',
      'WITH RECURSIVE secrets(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM secrets WHERE n < 3) SELECT * FROM secrets',
      'WITH RECURSIVE a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a',
      'WITH secrets AS (SELECT 1) SELECT * FROM (WITH inner_cte AS (SELECT * FROM secrets) SELECT * FROM inner_cte) x',
      'WITH secrets AS (SELECT 1) SELECT 1 UNION SELECT * FROM secrets',
      'WITH s AS (SELECT 1) SELECT * FROM (WITH s AS (SELECT * FROM s) SELECT * FROM s) x',
    ])('allows %s (every reference is a CTE in scope)', (sql) => {
      expect(validateSqlSync(sql, only)).toMatchObject({ allowed: true });
    });

    it('refuses data-modifying CTEs at any depth', () => {
      expect(validateSqlSync('SELECT * FROM (WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x) y').reason).toMatch(/DELETE is not allowed/);
      expect(validateSqlSync('WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT 1').reason).toMatch(/UPDATE is not allowed/);
      expect(validateSqlSync('WITH x AS (MERGE INTO t USING u ON true WHEN MATCHED THEN DELETE) SELECT 1').allowed).toBe(false);
    });
  });

  describe('names resolved as the server resolves them (finding 2)', () => {
    it.each(['pg_roles', 'pg_settings', 'pg_stat_activity', 'pg_proc', 'pg_catalog.pg_roles', 'information_schema.tables', 'pg_toast.pg_toast_1259', 'pg_temp.x'])(
      'refuses the catalog %s by default and with allowSchemas [public]',
      (table) => {
        expect(allowed(`SELECT * FROM ${table}`)).toBe(false);
        expect(allowed(`SELECT * FROM ${table}`, { allowSchemas: ['public'] })).toBe(false);
        expect(allowed(`SELECT * FROM ${table}`, { allowTables: [table.replace(/^.*\./, '')] })).toBe(false);
      },
    );

    it('reads a catalog only when its schema is allowed by name', () => {
      expect(allowed('SELECT * FROM pg_roles', { allowSchemas: ['public', 'pg_catalog'] })).toBe(true);
      expect(allowed('SELECT * FROM pg_catalog.pg_class', { allowTables: ['pg_catalog.pg_class'] })).toBe(true);
      expect(allowed('SELECT * FROM pg_class', { allowTables: ['pg_class'] })).toBe(false);
      expect(allowed('SELECT * FROM information_schema.columns', { allowSchemas: ['information_schema'] })).toBe(true);
    });

    it('takes a bare allowTables entry to mean the table in a search_path schema', () => {
      const only = { allowTables: ['t'] };
      expect(allowed('SELECT * FROM t', only)).toBe(true);
      expect(allowed('SELECT * FROM public.t', only)).toBe(true);
      expect(validateSqlSync('SELECT * FROM other.t', only).reason).toMatch(/"t" in allowTables means the one in the search_path \(public\)/);
      expect(allowed('SELECT * FROM other.t', { ...only, searchPath: ['app', 'other'] })).toBe(true);
      expect(allowed('SELECT * FROM public.t', { ...only, searchPath: ['app'] })).toBe(false);
      expect(allowed('SELECT * FROM other.t', { allowTables: ['other.t'] })).toBe(true);
    });

    it('requires every schema an unqualified name may resolve to be allowed', () => {
      expect(allowed('SELECT * FROM t', { allowTables: ['public.t'], searchPath: ['public', 'other'] })).toBe(false);
      expect(allowed('SELECT * FROM t', { allowTables: ['public.t', 'other.t'], searchPath: ['public', 'other'] })).toBe(true);
      expect(allowed('SELECT * FROM t', { allowSchemas: ['public'], searchPath: ['public', 'other'] })).toBe(false);
      expect(allowed('SELECT * FROM pg_t', { allowSchemas: ['public'] })).toBe(false); // pg_catalog is searched first
      expect(allowed('SELECT * FROM public.pg_t', { allowSchemas: ['public'] })).toBe(true);
      expect(allowed('SELECT * FROM db.public.t')).toBe(false);
    });

    it('compares names after the parser folds case, quotes and escapes', () => {
      expect(allowed('SELECT * FROM "pg_catalog".pg_roles', { allowSchemas: ['public'] })).toBe(false);
      expect(allowed('SELECT * FROM "PG_CATALOG".pg_roles', { allowSchemas: ['public'] })).toBe(false);
      expect(allowed('SELECT * FROM PG_CATALOG.PG_ROLES', { allowSchemas: ['public'] })).toBe(false);
      expect(allowed('SELECT * FROM U&"pg\\005froles"', { allowSchemas: ['public'] })).toBe(false);
      expect(allowed('SELECT * FROM "Secrets"', { allowTables: ['secrets'] })).toBe(false);
      expect(allowed('SELECT * FROM SECRETS', { allowTables: ['secrets'] })).toBe(true);
      expect(allowed('SELECT * FROM U&"s\\0065crets"', { allowTables: ['t'] })).toBe(false);
      expect(allowed('SELECT "PG_CATALOG".lower(\'x\')')).toBe(false);
      expect(allowed('SELECT PG_CATALOG.LOWER(\'x\')')).toBe(true);
      expect(allowed("SELECT 'x'::\"PG_CATALOG\".text")).toBe(false);
    });

    it('matches host functions and types the same way: bare means in the search_path', () => {
      expect(allowed('SELECT f(1)', { allowFunctions: ['f'] })).toBe(true);
      expect(allowed('SELECT public.f(1)', { allowFunctions: ['f'] })).toBe(true);
      expect(allowed('SELECT other.f(1)', { allowFunctions: ['f'] })).toBe(false);
      expect(allowed('SELECT f(1)', { allowFunctions: ['public.f'] })).toBe(false);
      expect(allowed("SELECT 'a'::public.mood", { allowTypes: ['mood'] })).toBe(true);
      expect(allowed("SELECT 'a'::other.mood", { allowTypes: ['mood'] })).toBe(false);
    });
  });

  describe('operators, types, collations and TABLESAMPLE everywhere (finding 5)', () => {
    it.each([
      ['SELECT 1 WHERE 1 OPERATOR(s.===) ANY (SELECT 1)', /operator "s\.==="/],
      ['SELECT 1 WHERE 1 OPERATOR(s.=) ALL (SELECT 1)', /operator "s\.="/],
      ['SELECT 1 WHERE (1, 2) OPERATOR(s.=) (SELECT 1, 2)', /operator "s\.="/],
      ['SELECT * FROM f() AS x(a s.dom)', /type "s\.dom"/],
      ["SELECT * FROM jsonb_to_record('{}') AS x(a s.dom)", /type "s\.dom"/],
      ["SELECT * FROM ROWS FROM (jsonb_to_record('{}') AS (a s.dom))", /type "s\.dom"/],
      ["SELECT * FROM jsonb_to_record('{}') AS x(a text COLLATE s.c)", /collation "s\.c"/],
      ['SELECT x FROM t ORDER BY x USING OPERATOR(s.<)', /operator "s\.<"/],
      ['SELECT x FROM t ORDER BY x USING ~<~', /operator "~<~"/],
      ['SELECT string_agg(x, \',\' ORDER BY x USING OPERATOR(s.<)) FROM t', /operator "s\.<"/],
      ['SELECT sum(x) OVER (ORDER BY x USING OPERATOR(s.<)) FROM t', /operator "s\.<"/],
      ['SELECT sum(x) OVER w FROM t WINDOW w AS (ORDER BY x USING OPERATOR(s.<))', /operator "s\.<"/],
      ["SELECT JSON_VALUE(j, '$.a' RETURNING s.dom) FROM t", /type "s\.dom"/],
      ["SELECT JSON_QUERY(j, '$.a' RETURNING s.dom) FROM t", /type "s\.dom"/],
      ["SELECT JSON_OBJECT('a': 1 RETURNING s.dom)", /type "s\.dom"/],
      ["SELECT * FROM JSON_TABLE(j, '$' COLUMNS (a s.dom PATH '$.a')) jt", /type "s\.dom"/],
      ["SELECT * FROM JSON_TABLE(j, '$' COLUMNS (NESTED PATH '$.b' COLUMNS (b s.dom))) jt", /type "s\.dom"/],
      ['SELECT * FROM t TABLESAMPLE s.m (10)', /TABLESAMPLE method "s\.m"/],
      ['SELECT * FROM t TABLESAMPLE system_rows (10)', /TABLESAMPLE method "system_rows"/],
      ['SELECT a COLLATE s.c FROM t', /collation "s\.c"/],
      ['SELECT a COLLATE "PG_CATALOG"."C" FROM t', /collation "PG_CATALOG\.C"/],
      ["SELECT ARRAY['1']::s.dom[]", /type "s\.dom"/],
      ["SELECT '1'::varchar(10)::s.dom", /type "s\.dom"/],
      ['SELECT 1::t%TYPE', /type "t"/],
      ['SELECT a OPERATOR(pg_catalog.~<~) b FROM t', /operator "pg_catalog\.~<~"/],
    ])('refuses %s', (sql, reason) => {
      const verdict = validateSqlSync(sql);
      expect(verdict.allowed).toBe(false);
      expect(verdict.reason).toMatch(reason);
    });

    it.each([
      'SELECT 1 WHERE 1 OPERATOR(pg_catalog.=) ANY (SELECT 1)',
      'SELECT x FROM t ORDER BY x USING OPERATOR(pg_catalog.<)',
      'SELECT x FROM t ORDER BY x USING >',
      "SELECT * FROM jsonb_to_record('{}') AS x(a int, b text COLLATE \"C\")",
      'SELECT * FROM t TABLESAMPLE BERNOULLI (10) REPEATABLE (1)',
      'SELECT * FROM t TABLESAMPLE pg_catalog.system (10)',
      'SELECT a COLLATE pg_catalog."default", a COLLATE "C" FROM t',
      "SELECT JSON_VALUE(j, '$.a' RETURNING int) FROM t",
      "SELECT * FROM JSON_TABLE('[1]'::jsonb, '$[*]' COLUMNS (a int PATH '$', n FOR ORDINALITY)) jt",
    ])('allows the built-in %s', (sql) => {
      expect(validateSqlSync(sql)).toMatchObject({ allowed: true });
    });
  });

  describe('XML (finding 4)', () => {
    it.each([
      ["SELECT * FROM XMLTABLE('/a' PASSING '<a/>' COLUMNS x int PATH '.')", /XMLTABLE/],
      ["SELECT * FROM t, LATERAL XMLTABLE('/a' PASSING t.x COLUMNS y text) x", /XMLTABLE/],
      ["SELECT xpath('/a', x) FROM t", /"xpath".*libxml2/],
      ["SELECT xpath_exists('/a', x) FROM t", /"xpath_exists"/],
      ["SELECT XMLEXISTS('/a' PASSING x) FROM t", /"xmlexists"/],
      ["SELECT '<a/>'::xml", /type "xml"/],
      ['SELECT xmlelement(name a)', /XML expression/],
      ["SELECT XMLPARSE(DOCUMENT '<a/>')", /XML expression/],
      ['SELECT XMLSERIALIZE(DOCUMENT x AS text) FROM t', /XMLSERIALIZE/],
      ['SELECT x IS DOCUMENT FROM t', /XML expression/],
    ])('refuses %s', (sql, reason) => {
      const verdict = validateSqlSync(sql);
      expect(verdict.allowed).toBe(false);
      expect(verdict.reason).toMatch(reason);
    });
  });

  describe('every input yields a verdict (finding 9a)', () => {
    it.each([
      ['a 3,000-term 1+1+…', `SELECT ${Array(3000).fill('1').join('+')}`, /too complex/],
      ['a 49,000-term 1+1+…', `SELECT ${Array(49_000).fill('1').join('+')}`, /too complex/],
      ['a 100,000-term 1+1+…', `SELECT ${Array(100_000).fill('1').join('+')}`, /longer than/],
      ['20,000 nested parentheses', `SELECT ${'('.repeat(20_000)}1${')'.repeat(20_000)}`, /too complex/],
      ['5,000 nested subqueries', `SELECT ${'(SELECT '.repeat(5000)}1${')'.repeat(5000)}`, /too complex/],
      ['5,000 nested FROM subqueries', `SELECT * FROM ${'(SELECT * FROM '.repeat(5000)}t${') s'.repeat(5000)}`, /too complex/],
      ['10,000 nested ARRAY[…]', `SELECT ${'ARRAY['.repeat(10_000)}1${']'.repeat(10_000)}`, /too complex/],
      ['3,000 nested CASE', `SELECT ${'CASE WHEN a THEN '.repeat(3000)}1${' END'.repeat(3000)}`, /too complex/],
      ['8,000 nested function calls', `SELECT ${'abs('.repeat(8000)}1${')'.repeat(8000)}`, /too complex/],
      ['3,000 unary minus', `SELECT ${'- '.repeat(3000)}1`, /too complex/],
      ['3,000 NOT', `SELECT ${'NOT '.repeat(3000)}true`, /too complex/],
      ['3,000 casts', `SELECT 1${'::int'.repeat(3000)}`, /too complex/],
      ['3,000 UNIONs with commas between', `SELECT 1, 2${' UNION SELECT 1, 2'.repeat(3000)}`, /too complex/],
      ['3,000 JOINs', `SELECT 1 FROM t${' JOIN t ON true'.repeat(3000)}`, /too complex/],
      ["15,000 'a'||'a'||…", `SELECT ${Array(15_000).fill("'a'").join('||')}`, /too complex/],
      ['30,000 list items', `SELECT ${Array(30_000).fill('1').join(',')}`, /tokens/],
    ])('refuses %s, quickly', (_label, sql, reason) => {
      const started = performance.now();
      const verdict = validateSqlSync(sql);
      expect(verdict.allowed).toBe(false);
      expect(verdict.reason).toMatch(reason);
      expect(performance.now() - started).toBeLessThan(2000);
      expect(validateSqlSync('SELECT 1').allowed).toBe(true);
    });

    it('still allows long flat queries: 1,000 AND-ed conditions, 2,000 list items, 300 CTEs', () => {
      expect(allowed(`SELECT 1 FROM t WHERE ${Array.from({ length: 1000 }, (_, i) => `a${i} = ${i}`).join(' AND ')}`)).toBe(true);
      expect(allowed(`SELECT * FROM t WHERE id IN (${Array.from({ length: 2000 }, (_, i) => i).join(', ')})`)).toBe(true);
      expect(allowed(`WITH ${Array.from({ length: 300 }, (_, i) => `c${i} AS (SELECT ${i === 0 ? '1' : `* FROM c${i - 1}`})`).join(', ')} SELECT * FROM c299`, { allowTables: ['t'] })).toBe(true);
    });

    it('answers every token soup with a verdict, never an exception (property)', () => {
      const token = fc.constantFrom(
        'SELECT', 'FROM', 'WITH', 'RECURSIVE', 'AS', '(', ')', '[', ']', ',', '+', '-', '||', '::', 'int', 'xml', 'CASE', 'WHEN', 'THEN', 'END',
        'UNION', 'JOIN', 'ON', 'AND', 'OR', 'NOT', 't', 'secrets', 'pg_roles', 'pg_catalog.', 'OPERATOR(s.=)', 'ANY', "'a'", '$1', '1', 'ARRAY',
        'XMLTABLE', 'LATERAL', 'ROWS', 'COLLATE', 'USING', '"x"', 'U&"\\0061"', '--', '/*', '*/', '$$', 'E\'\\\'',
      );
      fc.assert(
        fc.property(fc.array(token, { maxLength: 40 }), fc.integer({ min: 1, max: 3000 }), (tokens, repeat) => {
          const sql = tokens.join(' ');
          for (const text of [sql, sql.repeat(repeat).slice(0, 99_000)]) {
            const verdict = validateSqlSync(text, { allowTables: ['t'] });
            expect(typeof verdict.allowed).toBe('boolean');
            expect(verdict.reason.length).toBeGreaterThan(0);
          }
        }),
        { numRuns: 150 },
      );
      expect(validateSqlSync('SELECT 1').allowed).toBe(true);
    });

    it('does not count brackets inside strings, quoted names and comments', () => {
      const deep = '('.repeat(5000);
      expect(allowed(`SELECT '${deep}', E'\\'${deep}', $$${deep}$$, $x$${deep}$x$, "${deep}" FROM t -- ${deep}\n/* ${deep} /* nested */ ${deep} */`)).toBe(true);
    });
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

describe('validateSql: review findings (field notation, lexer, allowlist names)', () => {
  it.each([
    ["SELECT ('select array_to_tsvector(array[s]) from secret'::text).ts_stat", /ts_stat/],
    ['SELECT (1::bigint).pg_advisory_lock', /pg_advisory_lock/],
    ['SELECT (g).pg_cancel_backend FROM generate_series(1, 10) AS g', /pg_cancel_backend/],
    ["SELECT ('server_version'::text).current_setting", /current_setting/],
    ['SELECT ok.pg_get_viewdef FROM ok', /pg_get_viewdef/],
    ['SELECT ok.col.current_setting FROM ok', /current_setting/],
    ["SELECT ('<a>'::text).xml_is_well_formed", /xml_is_well_formed/],
    ["SELECT ('sq'::text).currval", /currval/],
    ['SELECT ok.pg_relation_size FROM ok', /pg_relation_size/],
  ])('refuses the functional notation %s (x.f is the call f(x))', (sql, name) => {
    const verdict = validateSqlSync(sql, { allowTables: ['ok'] });
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toMatch(name);
    expect(verdict.reason).toMatch(/after a dot/);
  });

  it('keeps ordinary column names that are also pure functions, and those the host allowed', () => {
    expect(allowed('SELECT ok.name, ok.price, ok.area, (ok.shape).width, (jsonb_each(ok.doc)).key FROM ok', { allowTables: ['ok'] })).toBe(true);
    expect(allowed('SELECT ok.current_setting FROM ok', { allowTables: ['ok'], allowFunctions: ['current_setting'] })).toBe(true);
  });

  it.each([
    ['SELECT 1 ' + '/*'.repeat(49_000)],
    ['SELECT 1 ' + '+/*'.repeat(33_000)],
    ['SELECT 1 ' + '/*'.repeat(24_000) + '*/'.repeat(24_000)],
  ])('refuses a long run of operator characters before the lexer sees it (quadratic back-up): %#', (sql) => {
    const verdict = validateSqlSync(sql);
    expect(verdict.allowed).toBe(false);
    expect(verdict.reason).toMatch(/run of more than 256 operator characters/);
  });

  it('keeps long string literals and comments of ordinary text', () => {
    expect(allowed(`SELECT '${'='.repeat(5000)}' /* ${'note '.repeat(1000)} */`)).toBe(true);
  });

  it.each([
    [`SELECT '5'::"integer"`],
    [`SELECT '5'::"boolean"`],
    [`SELECT '5'::"double precision"`],
    ["SELECT uuid('x'::text)"],
    ['SELECT 1 <=> 2'],
    ['SELECT g::regclass::text FROM generate_series(1, 10) AS g'],
    ["SELECT 'pg_authid'::regclass"],
    ["SELECT 'int4'::regtype"],
    ['SELECT any_value(x) FROM generate_series(1, 2) AS x'],
  ])('refuses a name that is not in pg_catalog on every supported server, or reads the catalogs: %s', (sql) => {
    expect(allowed(sql)).toBe(false);
  });

  it('keeps the keyword spellings of built-in types (they arrive as pg_catalog names)', () => {
    expect(allowed("SELECT '5'::integer, '1'::boolean, '1'::double precision, '1'::smallint, '1'::bigint, '1'::real, '1'::decimal, CAST('1' AS int)")).toBe(true);
  });

  it('does not take a quoted name holding a dot for a schema-qualified allowTables entry', () => {
    expect(allowed('SELECT * FROM public.ok', { allowTables: ['public.ok'] })).toBe(true);
    expect(allowed('SELECT * FROM "public.ok"', { allowTables: ['public.ok'] })).toBe(false);
    expect(allowed('SELECT * FROM "public.ok"', { allowTables: ['ok'] })).toBe(false);
  });
});
