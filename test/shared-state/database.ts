import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

/** A PostgreSQL server for the file's tests: started before them, stopped after, with pools made on demand. */
export interface TestDatabase {
  readonly server: TestPostgres;
  /** A superuser pool (closed with the server); the first one made is `pool`. */
  newPool(options?: pg.PoolConfig): pg.Pool;
  readonly pool: pg.Pool;
}

/** Registers the hooks that start and stop a server around the calling test file. */
export function useTestDatabase(poolOptions: pg.PoolConfig = {}): TestDatabase {
  let server: TestPostgres | undefined;
  let first: pg.Pool | undefined;
  const pools: pg.Pool[] = [];
  const newPool = (options: pg.PoolConfig = {}): pg.Pool => {
    if (server === undefined) throw new Error('the test database is not started yet');
    const pool = new pg.Pool({ connectionString: server.adminUrl, max: 8, ...poolOptions, ...options });
    pool.on('error', () => undefined); // the server's goodbye at shutdown or restart
    pools.push(pool);
    return pool;
  };
  beforeAll(async () => {
    server = await startPostgres();
    first = newPool();
  });
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
    await server?.stop();
  });
  return {
    get server() {
      if (server === undefined) throw new Error('the test database is not started yet');
      return server;
    },
    get pool() {
      if (first === undefined) throw new Error('the test database is not started yet');
      return first;
    },
    newPool,
  };
}
