import { randomBytes } from 'node:crypto';
import macaroon from 'macaroon';

/** Mints a real v2 binary macaroon with an aperture-style identifier, with the `macaroon` library. */
export function mintMacaroon(options: { paymentHash: Uint8Array; rootKey?: Uint8Array; caveats?: string[]; location?: string }): string {
  const identifier = Buffer.concat([Buffer.from([0, 0]), Buffer.from(options.paymentHash), randomBytes(32)]);
  const m = macaroon.newMacaroon({ identifier, location: options.location ?? 'l402-test', rootKey: options.rootKey ?? randomBytes(32), version: 2 });
  for (const caveat of options.caveats ?? []) m.addFirstPartyCaveat(caveat);
  return Buffer.from(m.exportBinary()).toString('base64');
}
