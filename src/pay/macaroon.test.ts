import { describe, expect, it } from 'vitest';
import { mintMacaroon } from '../../test/helpers/macaroon.js';
import { readMacaroon } from './macaroon.js';

describe('readMacaroon', () => {
  it('reads the payment hash of an aperture-style identifier and the caveats of a real v2 macaroon', () => {
    const paymentHash = new Uint8Array(32).fill(0x42);
    const token = mintMacaroon({ paymentHash, caveats: ['services=weather:0', 'weather_valid_until=1900000000'] });
    expect(readMacaroon(token)).toMatchObject({ paymentHash: '42'.repeat(32), caveats: ['services=weather:0', 'weather_valid_until=1900000000'], expiresAtMs: 1_900_000_000_000 });
    expect(readMacaroon(token.replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', ''))?.paymentHash).toBe('42'.repeat(32));
  });

  it('takes the earliest of several expiry caveats', () => {
    const token = mintMacaroon({ paymentHash: new Uint8Array(32), caveats: ['expires=2000000000', 'time-before=2030-01-01T00:00:00Z'] });
    expect(readMacaroon(token)?.expiresAtMs).toBe(Date.parse('2030-01-01T00:00:00Z'));
  });

  it('treats anything else as an opaque token', () => {
    for (const token of ['opaque-token', 'AgEEbHNhdA', Buffer.from([2, 2, 200]).toString('base64'), '']) expect(readMacaroon(token)).toBeUndefined();
  });
});
