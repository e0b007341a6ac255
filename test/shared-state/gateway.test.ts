import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGateway, defineTool } from '../../src/index.js';
import { verifyPostgresAudit } from '../../src/shared-state/index.js';
import { injectedKey, keyFile } from '../../src/store/index.js';
import { tempDir } from '../helpers/temp-dir.js';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();
const quiet = { warn: () => undefined };
let schemas = 0;
const freshSchema = (): string => `gw_${process.pid}_${++schemas}`;

async function tableExists(schema: string, table: string): Promise<boolean> {
  const { rows } = await db.pool.query<{ found: string | null }>('SELECT to_regclass($1)::text AS found', [`${schema}.${table}`]);
  return rows[0]?.found !== null;
}

async function schemaExists(schema: string): Promise<boolean> {
  const { rows } = await db.pool.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  return rows.length > 0;
}

describe('createGateway with sharedState', () => {
  it('refuses to start without a key provider: CONFIG_INVALID, and nothing written to the database', async () => {
    const schema = freshSchema();
    await expect(createGateway({ sharedState: { pool: db.pool, schema } }, { logger: quiet })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: /keyProvider/ });
    await expect(createGateway({ sharedState: { connectionString: db.server.adminUrl, schema } }, { logger: quiet })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(await schemaExists(schema)).toBe(false);
  });

  it('refuses a key file that does not exist (no new key per machine): the file is not created and no table written', async () => {
    await using dir = await tempDir();
    const schema = freshSchema();
    await expect(createGateway({ sharedState: { pool: db.pool, schema } }, { logger: quiet, keyProvider: keyFile(dir.join('fleet.key')) })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: /fleet\.key/,
    });
    expect(await schemaExists(schema)).toBe(false);
    await expect(import('node:fs/promises').then((fs) => fs.stat(dir.join('fleet.key')))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a key that is not the fleet\'s: the first gateway ties the credentials to its key', async () => {
    const schema = freshSchema();
    const key = randomBytes(32);
    const first = await createGateway({ sharedState: { pool: db.pool, schema } }, { logger: quiet, keyProvider: injectedKey(key) });
    await first.credentials?.put('l402:https://api.example/x', { token: 'secret' });
    await first.close();
    await expect(createGateway({ sharedState: { pool: db.pool, schema } }, { logger: quiet, keyProvider: injectedKey(randomBytes(32)) })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: /not the key/,
    });
    const again = await createGateway({ sharedState: { pool: db.pool, schema } }, { logger: quiet, keyProvider: injectedKey(key) });
    expect(await again.credentials?.get('l402:https://api.example/x')).toEqual({ token: 'secret' });
    await again.close();
  });

  it('fails with CONFIG_INVALID when the database cannot be reached, never showing the password of the connection string', async () => {
    const keyProvider = injectedKey(randomBytes(32));
    const closedPort = `postgres://fleet:s3cret-pw@127.0.0.1:1/portcullis`;
    const malformed = 'postgres://fleet:s3cret-pw@[bad/portcullis';
    for (const connectionString of [closedPort, malformed]) {
      const error = (await createGateway({ sharedState: { connectionString } }, { logger: quiet, keyProvider }).catch((e: unknown) => e)) as Error & { code: string };
      expect(error.code, connectionString).toBe('CONFIG_INVALID');
      expect(error.message).not.toContain('s3cret');
      expect(JSON.stringify(error)).not.toContain('s3cret');
    }
  });

  it('of two gateways starting together on a fresh schema with different keys, exactly one starts', async () => {
    const schema = freshSchema();
    const outcomes = await Promise.allSettled(
      [randomBytes(32), randomBytes(32), randomBytes(32)].map((key) => createGateway({ sharedState: { pool: db.newPool({ max: 3 }), schema } }, { logger: quiet, keyProvider: injectedKey(key) })),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ code: 'CONFIG_INVALID' });
    for (const o of outcomes) if (o.status === 'fulfilled') await o.value.close();
  });

  it('validates the section: exactly one of connectionString and pool, a pool-like pool, a schema identifier, no credentialStoreDir beside it', async () => {
    const keyProvider = injectedKey(randomBytes(32));
    const bad: unknown[] = [
      {},
      { connectionString: db.server.adminUrl, pool: db.pool },
      { pool: { query: 1 } },
      { connectionString: '' },
      { pool: db.pool, schema: 'Bad-Schema' },
      { pool: db.pool, schema: 'x; DROP TABLE y' },
      { pool: db.pool, owner: '' },
      { pool: db.pool, unknown: true },
    ];
    for (const sharedState of bad) {
      await expect(createGateway({ sharedState } as never, { logger: quiet, keyProvider }), JSON.stringify(Object.keys(sharedState as object))).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    }
    await using dir = await tempDir();
    await expect(
      createGateway({ sharedState: { pool: db.pool }, payments: { credentialStoreDir: dir.join('store'), credentialStoreConfineTo: dir.path } }, { logger: quiet, keyProvider }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: /credentialStoreDir/ });
  });

  it('two gateways share the policy rate limits, the budget (gw.spend) and the credentials (gw.credentials)', async () => {
    const schema = freshSchema();
    const keyProvider = injectedKey(randomBytes(32));
    const config = {
      sharedState: { connectionString: db.server.adminUrl, schema, owner: 'team-a' },
      policy: { allowTools: ['demo.*'], perTool: { 'demo.ping': { rateLimit: { maxCalls: 5, windowMs: 60_000 } } } },
      payments: { maxSpendPerMinuteSats: 30 },
    };
    const gateways = await Promise.all([createGateway(config, { logger: quiet, keyProvider }), createGateway(config, { logger: quiet, keyProvider })]);
    for (const gw of gateways) gw.register(defineTool({ name: 'demo.ping', description: 'Pong.', inputSchema: z.object({}), execute: () => 'pong' }));
    const outcomes = await Promise.all(gateways.flatMap((gw) => Array.from({ length: 6 }, () => gw.call('demo.ping', {}).then(() => 'ok', (e: { code: string }) => e.code))));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(7);

    const [a, b] = gateways;
    const reservation = await a.spend.tryReserve({ amountMsat: 20_000, feeReserveMsat: 0 });
    expect(reservation).not.toHaveProperty('code');
    expect(await b.spend.spentLastMinuteMsat()).toBe(20_000);
    expect(await b.spend.tryReserve({ amountMsat: 11_000, feeReserveMsat: 0 })).toMatchObject({ code: 'SPEND_LIMIT_EXCEEDED' });

    await a.credentials?.put('l402:https://api.example/', { macaroon: 'm', preimage: 'p' });
    expect(await b.credentials?.get('l402:https://api.example/')).toEqual({ macaroon: 'm', preimage: 'p' });
    // Ciphertext only in the database.
    const { rows } = await db.pool.query<{ sealed: Buffer }>(`SELECT sealed FROM ${schema}.credentials WHERE id = 'l402:https://api.example/'`);
    expect(rows[0]?.sealed.includes(Buffer.from('macaroon'))).toBe(false);
    await Promise.all(gateways.map((gw) => gw.close()));
  });

  it('audits every call of every gateway into one PostgreSQL chain that verifies', async () => {
    const schema = freshSchema();
    const keyProvider = injectedKey(randomBytes(32));
    const config = { sharedState: { pool: db.pool, schema, auditStream: 'fleet' }, policy: { allowTools: ['demo.*'] } };
    const gateways = await Promise.all([createGateway(config, { logger: quiet, keyProvider }), createGateway(config, { logger: quiet, keyProvider })]);
    for (const gw of gateways) gw.register(defineTool({ name: 'demo.echo', description: 'Echo.', inputSchema: z.object({ n: z.number() }), execute: ({ n }) => n }));
    await Promise.all(gateways.flatMap((gw, g) => Array.from({ length: 10 }, (_, i) => gw.call('demo.echo', { n: g * 100 + i }))));
    await Promise.all(gateways.map((gw) => gw.close()));
    const verdict = await verifyPostgresAudit({ pool: db.pool, schema, stream: 'fleet' });
    expect(verdict).toMatchObject({ ok: true, records: 20 });
    expect(await tableExists(schema, 'spend_leases')).toBe(true);
  });

  it('ends the pool it made from connectionString on close, and never a pool it was given', async () => {
    const schema = freshSchema();
    const keyProvider = injectedKey(randomBytes(32));
    const name = `fleet_close_${process.pid}`;
    const gw = await createGateway({ sharedState: { connectionString: `${db.server.adminUrl}?application_name=${name}`, schema } }, { logger: quiet, keyProvider });
    await gw.spend.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 });
    const count = async (): Promise<number> => {
      const { rows } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1', [name]);
      return Number(rows[0]?.n);
    };
    expect(await count()).toBeGreaterThan(0);
    await gw.close();
    for (let i = 0; i < 50 && (await count()) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await count()).toBe(0);
    await expect(gw.spend.tryReserve({ amountMsat: 1000, feeReserveMsat: 0 })).rejects.toMatchObject({ code: 'GATEWAY_CLOSED' });

    const own = db.newPool({ max: 2 });
    const borrowed = await createGateway({ sharedState: { pool: own, schema } }, { logger: quiet, keyProvider });
    await borrowed.close();
    expect((await own.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });
});
