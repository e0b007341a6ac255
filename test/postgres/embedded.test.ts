import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { createPostgres } from '../../src/postgres/index.js';

const limits = { timeoutMs: 5000, maxBytes: 1024 * 1024 };

describe('embedded PostgreSQL (PGlite)', () => {
  it('runs the same validation and read-only envelope on a copy of the host database, in a worker', async () => {
    const db = await PGlite.create();
    await db.exec(`CREATE TABLE notes (id int, body text); INSERT INTO notes VALUES (1, 'hello'), (2, 'world');
      CREATE FUNCTION scribble() RETURNS int LANGUAGE sql AS $$ INSERT INTO notes VALUES (3, 'x'); SELECT 1 $$;`);
    const embedded = await createPostgres({ embedded: true, allowFunctions: ['scribble'], maxRows: 1 }, { embedded: db });
    expect(await embedded.query({ sql: 'SELECT body FROM notes WHERE id = $1', params: [2] }, limits)).toMatchObject({ rows: [{ body: 'world' }], truncated: false });
    expect(await embedded.query({ sql: 'SELECT * FROM notes ORDER BY id' }, limits)).toMatchObject({ rowCount: 1, truncated: true });
    await expect(embedded.query({ sql: 'DELETE FROM notes' }, limits)).rejects.toMatchObject({ code: 'SQL_NOT_ALLOWED' });
    await expect(embedded.query({ sql: 'SELECT scribble()' }, limits)).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', data: { sqlstate: '25006' } });
    // Nothing was written, in the copy the agent reads nor in the host's instance.
    expect(await embedded.query({ sql: 'SELECT count(*)::int AS n, max(id) AS top FROM notes' }, limits)).toMatchObject({ rows: [{ n: 2, top: 2 }] });
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM notes')).rows).toEqual([{ n: 2 }]);
    expect(await embedded.schema({}, limits)).toEqual({
      tables: [{ schema: 'public', table: 'notes', columns: [{ name: 'id', type: 'integer', nullable: true }, { name: 'body', type: 'text', nullable: true }] }],
    });
    await embedded.close();
    await expect(embedded.query({ sql: 'SELECT 1' }, limits)).rejects.toMatchObject({ code: 'GATEWAY_CLOSED' });
    // The host's instance is the host's: the connector never closes it.
    expect((await db.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    await db.close();
  }, 180_000); // two PGlite start-ups on a shared machine
});
