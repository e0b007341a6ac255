import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeInvoice } from '../../test/helpers/bolt11.js';
import { decodeInvoice } from './bolt11.js';

// Examples of the BOLT #11 specification, encoded and signed by a third party.
const SPEC_PAYEE = '03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad';
const SPEC_HASH = '0001020304050607080900010203040506070809000102030405060708090102';
const SPEC_DONATION =
  'lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdpl2pkx2ctnv5sxxmmwwd5kgetjypeh2ursdae8g6twvus8g6rfwvs8qun0dfjkxaq9qrsgq357wnc5r2ueh7ck6q93dj32dlqnls087fxdwk8qakdyafkq3yap9us6v52vjjsrvywa6rt52cm9r9zqt8r2t7mlcwspyetp5h2tztugp9lfyql';
const SPEC_COFFEE =
  'lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh';

describe('decodeInvoice', () => {
  it('decodes the specification donation invoice: no amount, recovered payee', () => {
    expect(decodeInvoice(SPEC_DONATION)).toMatchObject({
      network: 'bitcoin',
      amountMsat: undefined,
      timestamp: 1_496_314_658,
      expirySeconds: 3600,
      paymentHash: SPEC_HASH,
      payee: SPEC_PAYEE,
      description: 'Please consider supporting this project',
    });
  });

  it('decodes the specification coffee invoice: 2500u is 250,000,000 msat, 60 s expiry', () => {
    expect(decodeInvoice(SPEC_COFFEE)).toMatchObject({ amountMsat: 250_000_000, expirySeconds: 60, expiresAtMs: (1_496_314_658 + 60) * 1000, description: '1 cup coffee', payee: SPEC_PAYEE });
  });

  it('refuses a broken checksum, an unknown prefix, garbage and a forged signature', () => {
    const flipped = `${SPEC_COFFEE.slice(0, -1)}${SPEC_COFFEE.endsWith('q') ? 'p' : 'q'}`;
    for (const bad of [flipped, 'lnxx1qqqq', '', 'not an invoice', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq']) {
      expect(() => decodeInvoice(bad), bad.slice(0, 20)).toThrow(expect.objectContaining({ code: 'INVALID_INVOICE' }) as Error);
    }
  });

  it('round-trips invoices signed here, on every network, and rejects one whose n field names someone else', () => {
    const key = secp256k1.utils.randomSecretKey();
    const other = secp256k1.utils.randomSecretKey();
    const paymentHash = new Uint8Array(32).fill(0xab);
    for (const network of ['bitcoin', 'testnet', 'signet', 'regtest'] as const) {
      const invoice = decodeInvoice(encodeInvoice({ network, amountMsat: 21_000, paymentHash, secretKey: key, withPayee: true, expirySeconds: 600, description: 'api call' }));
      expect(invoice).toMatchObject({ network, amountMsat: 21_000, expirySeconds: 600, description: 'api call', paymentHash: 'ab'.repeat(32) });
      expect(invoice.payee).toBe(Buffer.from(secp256k1.getPublicKey(key)).toString('hex'));
    }
    // Signed by `other` while its n field claims `key`.
    const forged = encodeInvoice({ amountMsat: 1000, paymentHash, secretKey: other, claimedPayee: secp256k1.getPublicKey(key) });
    expect(() => decodeInvoice(forged)).toThrow(expect.objectContaining({ code: 'INVALID_INVOICE', message: expect.stringMatching(/not by the payee/) as unknown }) as Error);
  });

  it('decodes every amount exactly, sub-satoshi amounts included (property)', () => {
    const key = secp256k1.utils.randomSecretKey();
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2_100_000_000_000 }), (amountMsat) => {
        const text = encodeInvoice({ amountMsat, paymentHash: new Uint8Array(32).fill(1), secretKey: key });
        expect(decodeInvoice(text).amountMsat).toBe(amountMsat);
      }),
      { numRuns: 200 },
    );
  });
});
