import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createGateway, defineTool } from '../../src/index.js';
import { postgresRateLimitStore } from '../../src/shared-state/index.js';
import { z } from 'zod';
import { useTestDatabase } from './database.js';

const db = useTestDatabase();

function pool(): pg.Pool {
  return db.newPool({ max: 5 });
}

describe('PostgreSQL rate-limit store', () => {
  it('shares one sliding window between gateways: 3 gateways x 20 calls against a limit of 10', async () => {
    const gateways = await Promise.all(
      Array.from({ length: 3 }, async () => {
        const gw = await createGateway(
          { policy: { allowTools: ['demo.*'], perTool: { 'demo.ping': { rateLimit: { maxCalls: 10, windowMs: 60_000 } } } } },
          { rateLimitStore: await postgresRateLimitStore({ pool: pool() }), logger: { warn: () => undefined } },
        );
        gw.register(defineTool({ name: 'demo.ping', description: 'Pong.', inputSchema: z.object({}), execute: () => 'pong' }));
        return gw;
      }),
    );
    const outcomes = await Promise.all(gateways.flatMap((gw) => Array.from({ length: 20 }, () => gw.call('demo.ping', {}).then(() => 'ok', (e: { code: string }) => e.code))));
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'RATE_LIMITED')).toHaveLength(50);
    await Promise.all(gateways.map((gw) => gw.close()));
  });

  it('lets a hit count again once it leaves the window', async () => {
    const store = await postgresRateLimitStore({ pool: pool(), namespace: 'window' });
    const limit = { maxCalls: 1, windowMs: 1000 };
    expect(await store.tryHit('k', limit, 10_000)).toBe(true);
    expect(await store.tryHit('k', limit, 10_500)).toBe(false);
    expect(await store.tryHit('k', limit, 11_000)).toBe(true);
  });
});
