import { writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createGateway, loadGatewayConfig } from '../../src/index.js';
import { nwcWallet } from '../../src/pay/wallets/nwc.js';
import { readAudit } from '../helpers/audit.js';
import { fakeLightning } from '../helpers/lightning.js';
import { startRelay } from '../helpers/nostr-relay.js';
import { startNwcService } from '../helpers/nwc-service.js';
import { tempDir } from '../helpers/temp-dir.js';

describe('402-mcp variables to a running gateway: NWC_URI_FILE → an NWC wallet → pay.invoice', () => {
  it('pays an invoice through NIP-47 on the local relay within MAX_AUTO_PAY_SATS, and refuses one above it without paying', async () => {
    await using dir = await tempDir();
    await using relay = await startRelay();
    const lightning = fakeLightning();
    const service = await startNwcService(relay.url, lightning);
    await writeFile(dir.join('nwc-uri'), service.uri, { mode: 0o600 });
    const { config, hints } = await loadGatewayConfig({
      text: 'policy:\n  allow_tools: [pay.invoice]\n',
      env: { NWC_URI_FILE: dir.join('nwc-uri'), MAX_AUTO_PAY_SATS: '50', AUDIT_FILE: dir.join('audit.jsonl') },
      warn: () => undefined,
    });
    expect(hints.nwcUriFile).toBe(dir.join('nwc-uri'));
    const wallet = await nwcWallet({ uriFile: hints.nwcUriFile });
    try {
      const gw = await createGateway(config, { wallet, logger: { warn: () => undefined } });
      const cheap = lightning.createInvoice({ amountMsat: 21_000 });
      expect(await gw.call('pay.invoice', { invoice: cheap.bolt11 })).toMatchObject({ paid: true, amountSats: 21, paymentHash: cheap.paymentHash });
      expect(lightning.isPaid(cheap.paymentHash)).toBe(true);
      const dear = lightning.createInvoice({ amountMsat: 51_000 });
      await expect(gw.call('pay.invoice', { invoice: dear.bolt11 })).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED' });
      expect(lightning.isPaid(dear.paymentHash)).toBe(false);
      expect(lightning.payments).toBe(1);
      await gw.close();
      const text = JSON.stringify(await readAudit(dir.join('audit.jsonl')));
      expect(text).not.toContain(cheap.preimage);
      expect(text).not.toContain(service.uri);
    } finally {
      await wallet.close();
      service.close();
    }
  });
});
