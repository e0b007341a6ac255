import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A PostgreSQL server started for the tests, on 127.0.0.1, removed on stop. */
export interface TestPostgres {
  /** Superuser connection string (fixtures, inspection). */
  adminUrl: string;
  port: number;
  /** Stops the server (fast shutdown) and starts it again on the same port and data. */
  restart(options?: { downMs?: number }): Promise<void>;
  stop(): Promise<void>;
}

/** The directory holding initdb and postgres: PG_BIN, pg_config, or the Debian layout. */
function findBinaries(): string {
  const candidates = [process.env.PG_BIN];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // not on PATH
  }
  if (existsSync('/usr/lib/postgresql')) {
    for (const version of readdirSync('/usr/lib/postgresql').sort().reverse()) candidates.push(`/usr/lib/postgresql/${version}/bin`);
  }
  const found = candidates.find((dir) => dir !== undefined && existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')));
  if (found === undefined) {
    throw new Error('PostgreSQL server binaries not found: install PostgreSQL (Debian: apt-get install postgresql) or set PG_BIN. .ci/run does this.');
  }
  return found;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** PostgreSQL refuses to run as root: when we are root, run it as the `postgres` (or `nobody`) user. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      return { uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error('running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as');
}

async function waitUntilReady(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`postgres exited with code ${child.exitCode}`);
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      return;
    } catch (error) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadlineMs) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Initialises a throw-away cluster and starts it on a random loopback port. */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findBinaries();
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-pg-'));
  const data = join(dir, 'data');
  const user = serverUser();
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const asUser = user === undefined ? {} : { uid: user.uid, gid: user.gid };
  const superuser = 'portcullis_admin';
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', superuser, '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], {
    ...asUser,
    stdio: 'pipe',
  });
  const port = await freePort();
  const adminUrl = `postgres://${superuser}@127.0.0.1:${port}/postgres`;
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(
      join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=50'],
      { ...asUser, stdio: 'ignore' },
    );
    await waitUntilReady(adminUrl, child, Date.now() + 30_000);
    return child;
  };
  const halt = async (child: ChildProcess): Promise<void> => {
    child.kill('SIGINT'); // fast shutdown
    await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  };
  let child = await launch();
  return {
    adminUrl,
    port,
    async restart({ downMs = 0 } = {}) {
      await halt(child);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      child = await launch();
    },
    async stop() {
      await halt(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
