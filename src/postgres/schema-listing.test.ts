import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { QueryResult } from './read-only-query.js';
import { jsonBytes, resultBytes, withBytes } from './result-bytes.js';
import { schemaListing } from './schema-listing.js';

const name = fc.string({ unit: 'binary', maxLength: 12 });
const row = fc.record({ schema: fc.constantFrom('public', 's', 'é"\\', ''), table: fc.oneof(fc.constantFrom('t', 'u', 'ü\n', ''), fc.string({ unit: 'binary', maxLength: 3 })), name, type: name, nullable: fc.boolean() });

/** The catalogue query's result as the envelope returns it: its exact size recorded. */
function catalogue(rows: Record<string, unknown>[]): QueryResult {
  const columns = ['schema', 'table', 'name', 'type', 'nullable'].map((column) => ({ name: column, type: column === 'nullable' ? 'bool' : 'text' }));
  const result = { columns, rows, rowCount: rows.length, truncated: false };
  return withBytes(result, jsonBytes(result));
}

describe('schemaListing: the recorded size', () => {
  it('is never below the listing’s own JSON length (random names, Unicode, quotes, filters)', () => {
    fc.assert(
      fc.property(
        fc.array(row, { maxLength: 200, size: 'max' }),
        fc.option(fc.subarray(['public', 's', 'é"\\', ''])),
        fc.option(fc.subarray(['t', 'u', 's.ü\n', 'public.t'])),
        (rows, allowSchemas, allowTables) => {
          const listing = schemaListing(catalogue(rows), { allowSchemas: allowSchemas ?? undefined, allowTables: allowTables ?? undefined }, 1e9);
          expect(resultBytes(listing)).toBeGreaterThanOrEqual(jsonBytes(listing));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('is the exact length when the bound would pass maxBytes, so the limit decides as before', () => {
    fc.assert(
      fc.property(fc.array(row, { minLength: 1, maxLength: 20 }), (rows) => {
        const exact = jsonBytes(schemaListing(catalogue(rows), {}, 1e9));
        const atLimit = schemaListing(catalogue(rows), {}, exact);
        expect(resultBytes(atLimit)).toBe(exact);
      }),
      { numRuns: 200 },
    );
  });
});
