import type pg from 'pg';
import { spellOut } from '../util/escape.js';

/** What the connector learns about the server and its role at the first connection. */
export interface ServerInspection {
  superuser: boolean;
  /** Whether the role may `SET temp_file_limit` (superuser, or `GRANT SET ON PARAMETER` on PostgreSQL 15+). */
  maySetTempFileLimit: boolean;
  /**
   * Functions, operators and types in the searchPath schemas named like a `pg_catalog` one, that
   * no extension installed (`public.upper(character varying)`): the CVE-2018-1058 pattern, where
   * a closer match on the argument types beats the built-in the validator allowed. Also every
   * function there (extensions' included) that the role may execute with one argument: PostgreSQL
   * reads `x.f` as the call `f(x)` when `x` has no column `f`, which the validator cannot tell
   * from a column (pg_catalog's are checked by name, see walker/field-functions.ts).
   */
  shadows: string[];
  /** searchPath schemas where a role other than the owner (or PUBLIC) may CREATE objects: `schema (role)`. */
  writableSchemas: string[];
}

// Run with search_path = pg_catalog, so every function, operator and type below is the built-in.
const SHADOWS_SQL = `
SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS what, n.nspname AS schema, p.proname AS name, 'f' AS kind
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY ($1::name[])
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_proc b WHERE b.pronamespace = 'pg_catalog'::regnamespace AND b.proname = p.proname)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
UNION ALL
SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || '), callable as x.' || p.proname, n.nspname, p.proname, 'f'
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = ANY ($1::name[]) AND p.prokind = 'f'
  AND ((p.pronargs >= 1 AND p.pronargs - p.pronargdefaults <= 1) OR p.provariadic <> 0)
  AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE')
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc b WHERE b.pronamespace = 'pg_catalog'::regnamespace AND b.proname = p.proname)
UNION ALL
SELECT 'operator ' || n.nspname || '.' || o.oprname || '(' || coalesce(format_type(o.oprleft, NULL), 'NONE') || ', ' || coalesce(format_type(o.oprright, NULL), 'NONE') || ')', n.nspname, o.oprname, 'o'
FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace
WHERE n.nspname = ANY ($1::name[])
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_operator b WHERE b.oprnamespace = 'pg_catalog'::regnamespace AND b.oprname = o.oprname)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_operator'::regclass AND d.objid = o.oid AND d.deptype = 'e')
UNION ALL
SELECT 'type ' || n.nspname || '.' || t.typname, n.nspname, t.typname, 't'
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname = ANY ($1::name[]) AND t.typrelid = 0
  AND EXISTS (SELECT 1 FROM pg_catalog.pg_type b WHERE b.typnamespace = 'pg_catalog'::regnamespace AND b.typname = t.typname)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')
ORDER BY 1`;

const WRITABLE_SQL = `
SELECT n.nspname || ' (' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END || ')' AS what
FROM pg_catalog.pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
WHERE n.nspname = ANY ($1::name[]) AND a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner
ORDER BY 1`;

/**
 * Looks at the server once, on a connection of the pool, in a read-only transaction with
 * `search_path` pinned to `pg_catalog` (so a trojan cannot run here either). Names the host
 * allowed itself (`allowFunctions`, `allowTypes`) are not reported as shadows.
 */
export async function inspectServer(
  client: pg.ClientBase,
  options: { searchPath: readonly string[]; allowFunctions: readonly string[]; allowTypes: readonly string[] },
): Promise<ServerInspection> {
  const schemas = options.searchPath.filter((schema) => schema !== 'pg_catalog');
  await client.query('BEGIN TRANSACTION READ ONLY');
  try {
    await client.query("SELECT pg_catalog.set_config('search_path', 'pg_catalog', true)");
    const role = await client.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user');
    const superuser = role.rows[0]?.rolsuper === true;
    let maySetTempFileLimit = superuser;
    if (!superuser) {
      await client.query('SAVEPOINT probe');
      try {
        const may = await client.query<{ may: boolean }>("SELECT has_parameter_privilege('temp_file_limit', 'SET') AS may");
        maySetTempFileLimit = may.rows[0]?.may === true;
      } catch {
        await client.query('ROLLBACK TO SAVEPOINT probe'); // before PostgreSQL 15: only a superuser may
      }
    }
    const allowed = (kind: string, schema: string, name: string): boolean => {
      const list = kind === 'f' ? options.allowFunctions : kind === 't' ? options.allowTypes : [];
      return list.includes(name) || list.includes(`${schema}.${name}`);
    };
    const shadows = (await client.query<{ what: string; schema: string; name: string; kind: string }>(SHADOWS_SQL, [schemas])).rows
      .filter((row) => !allowed(row.kind, row.schema, row.name))
      .map((row) => printable(row.what));
    const writableSchemas = (await client.query<{ what: string }>(WRITABLE_SQL, [schemas])).rows.map((row) => printable(row.what));
    return { superuser, maySetTempFileLimit, shadows, writableSchemas };
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * A name from the server as shown to the host, the agent and the audit record: whoever planted a
 * look-alike chose it, so invisible characters are spelled `\uXXXX` and it is capped at 200.
 */
function printable(text: string): string {
  return spellOut(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}
