import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';

describe('parseConfig', () => {
  it('fills in the documented defaults', () => {
    const config = parseConfig({});
    expect(config.policy).toMatchObject({ defaultDeny: true, allowTools: [], denyTools: [], globalTimeoutMs: 30_000, globalMaxBytes: 10 * 1024 * 1024 });
    expect(config.audit).toMatchObject({ flushIntervalMs: 100, maxQueue: 10_000, fsync: true });
    expect(config.payments).toEqual({ alwaysAskOrigins: [], network: 'bitcoin', paymentTimeoutMs: 60_000, expiryMarginMs: 30_000, approvalTimeoutMs: 25_000, allowedMethods: ['GET', 'POST'], maxAutoPaySats: 1000, maxSpendPerMinuteSats: 10_000, maxFeeSats: 10, walletOrder: 'lightning-first', walletOrderByOrigin: {} });
  });

  it('refuses a misspelt key with CONFIG_INVALID naming it and suggesting the right one', () => {
    expect(() => parseConfig({ policy: { allowTool: ['fs.*'] } })).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining('config.policy.allowTool is not a known option (did you mean "allowTools"?)') as unknown,
      }) as unknown,
    );
  });

  it('refuses unknown keys inside per-tool entries', () => {
    expect(() => parseConfig({ policy: { perTool: { 'db.query': { timeout_ms: 5 } } } })).toThrow(/config\.policy\.perTool\.db\.query\.timeout_ms.*timeoutMs/);
  });

  it('refuses wrong types and out-of-range values with the path', () => {
    expect(() => parseConfig({ policy: { globalTimeoutMs: -1 } })).toThrow(/config\.policy\.globalTimeoutMs/);
    expect(() => parseConfig({ policy: { allowTools: ['fs read'] } })).toThrow(/config\.policy\.allowTools\.0/);
    expect(() => parseConfig({ payments: { maxAutoPaySats: 1.5 } })).toThrow(/config\.payments\.maxAutoPaySats/);
  });

  it('refuses something that is not an object', () => {
    expect(() => parseConfig('policy: {}')).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as unknown);
  });
});
