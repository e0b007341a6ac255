import { expect } from 'vitest';
import type { Gateway } from '../../src/index.js';

/** Asserts that `db.query` refused `sql` with SQL_NOT_ALLOWED (matching `reason`) and returned no row. */
export async function expectSqlRefused(gateway: Gateway, sql: string, reason?: RegExp): Promise<void> {
  let rows: unknown;
  const error = await gateway.call<{ rows: unknown[] }>('db.query', { sql }).then(
    (result) => {
      rows = result.rows;
      return undefined;
    },
    (caught: unknown) => caught as { code: string; message: string },
  );
  expect(rows).toBeUndefined(); // no row came back
  expect(error?.code).toBe('SQL_NOT_ALLOWED');
  if (reason !== undefined) expect(error?.message).toMatch(reason);
}
