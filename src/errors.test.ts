import { describe, expect, it } from 'vitest';
import { ERROR_CODES, GatewayError, isGatewayError, isRefusalCode } from './errors.js';

describe('GatewayError', () => {
  it('carries a stable code, data and cause', () => {
    const cause = new Error('inner');
    const error = new GatewayError('POLICY_DENIED', 'Call refused.', { data: { rule: 'default-deny' }, cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'GatewayError', code: 'POLICY_DENIED', data: { rule: 'default-deny' }, cause });
  });

  it('serialises without cause or stack', () => {
    const error = new GatewayError('TOOL_FAILED', 'x failed.', { cause: new Error('secret detail') });
    expect(JSON.stringify(error)).toBe('{"name":"GatewayError","code":"TOOL_FAILED","message":"x failed."}');
  });

  it('is recognised across module copies by name and code, not by look-alikes', () => {
    const foreign = Object.assign(new Error('x'), { name: 'GatewayError', code: 'SSRF_BLOCKED' });
    expect(isGatewayError(foreign)).toBe(true);
    expect(isGatewayError(Object.assign(new Error('x'), { name: 'GatewayError', code: 'MADE_UP' }))).toBe(false);
    expect(isGatewayError({ name: 'GatewayError', code: 'SSRF_BLOCKED' })).toBe(false);
  });

  it('keeps the stable codes of the design', () => {
    for (const code of ['CONFIG_INVALID', 'SSRF_BLOCKED', 'SQL_NOT_ALLOWED', 'PAYMENT_OUTCOME_UNKNOWN', 'DECRYPT_FAILED'] as const) {
      expect(ERROR_CODES).toContain(code);
    }
    expect(isRefusalCode('SSRF_BLOCKED')).toBe(true);
    expect(isRefusalCode('TOOL_FAILED')).toBe(false);
  });
});
