import type { QueryResult } from './read-only-query.js';
import { jsonBytes, resultBytes, withBytes } from './result-bytes.js';

/** What `db.schema` returns. */
export interface SchemaResult {
  tables: { schema: string; table: string; columns: { name: string; type: string; nullable: boolean }[] }[];
}

/** A row of the catalogue query, in its column order: schema, table, name, type, nullable. */
export interface CatalogueRow {
  schema: string;
  table: string;
  name: string;
  type: string;
  nullable: boolean;
}

/**
 * Bytes a table's entry may add over its rows. A row `{"schema":S,"table":T,"name":…}` carries
 * `"schema":S,"table":T,` (19 bytes and S, T) that its column entry `{"name":…}` drops; the table's
 * entry `{"schema":S,"table":T,"columns":[…]}` adds 32 bytes and S, T around its columns. So a
 * table with at least one column adds at most 32 − 19 = 13 bytes; `{"tables":[…]}` adds 13 more,
 * less than the result's own columns and counts, which the listing drops.
 */
const TABLE_OVERHEAD_BYTES = 13;

/**
 * Groups the catalogue rows by table, keeping those allowSchemas and allowTables let through.
 * The listing's size is recorded from the query's (an upper bound, see TABLE_OVERHEAD_BYTES):
 * measured exactly only when that bound passes `maxBytes`, so the limit decides as on the
 * listing's own JSON.
 */
export function schemaListing(
  result: QueryResult,
  filter: { allowSchemas?: readonly string[] | undefined; allowTables?: readonly string[] | undefined },
  maxBytes: number,
): SchemaResult {
  const tables = new Map<string, SchemaResult['tables'][number]>();
  for (const row of result.rows as unknown as CatalogueRow[]) {
    if (filter.allowSchemas !== undefined && !filter.allowSchemas.includes(row.schema)) continue;
    if (filter.allowTables !== undefined && !filter.allowTables.includes(row.table) && !filter.allowTables.includes(`${row.schema}.${row.table}`)) continue;
    const key = `${row.schema}.${row.table}`;
    let entry = tables.get(key);
    if (entry === undefined) tables.set(key, (entry = { schema: row.schema, table: row.table, columns: [] }));
    entry.columns.push({ name: row.name, type: row.type, nullable: row.nullable });
  }
  const listing = { tables: [...tables.values()] };
  const bound = resultBytes(result) + TABLE_OVERHEAD_BYTES * (listing.tables.length + 1);
  return withBytes(listing, bound <= maxBytes ? bound : jsonBytes(listing));
}
