import { chmod, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createL402Payer } from '../../src/pay/l402-payer.js';
import { createSpendTracker } from '../../src/pay/spend-tracker.js';
import { nwcWallet } from '../../src/pay/wallets/nwc.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning, type WalletKnobs } from '../helpers/lightning.js';
import { startRelay } from '../helpers/nostr-relay.js';
import { startNwcService } from '../helpers/nwc-service.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testFetch } from '../net/setup.js';

async function rig(knobs: WalletKnobs = {}) {
  const relay = await startRelay();
  const lightning = fakeLightning();
  const service = await startNwcService(relay.url, lightning, knobs);
  const server = await startL402Server(lightning);
  const dir = await tempDir();
  await writeFile(dir.join('nwc-uri'), service.uri, { mode: 0o600 });
  const wallet = await nwcWallet({ uriFile: dir.join('nwc-uri') });
  const net = await testFetch({ allowedPorts: [server.port] });
  const spend = createSpendTracker();
  const payer = createL402Payer({ fetch: net.fetch, spend, wallet, paymentTimeoutMs: 3000 });
  return {
    relay,
    lightning,
    service,
    server,
    dir,
    spend,
    payer,
    url: `http://api.test:${server.port}/paid/nwc`,
    async [Symbol.asyncDispose]() {
      await wallet.close();
      service.close();
      await net[Symbol.asyncDispose]();
      await server.close();
      await relay.close();
      await dir[Symbol.asyncDispose]();
    },
  };
}

describe('NWC wallet over a local relay', () => {
  it('pays an L402 invoice end to end through NIP-47, with every event signature-checked by the relay', async () => {
    await using r = await rig({ feeMsat: 50 });
    const response = await r.payer.fetch(r.url);
    expect(await response.text()).toBe('paid:GET /paid/nwc');
    expect(r.lightning.payments).toBe(1);
    expect(r.service.requests).toBe(1);
    expect(r.relay.rejected).toBe(0);
    expect(r.relay.events.map((e) => e.kind)).toEqual(expect.arrayContaining([13194, 23194, 23195]));
    expect(r.spend.spentLastMinuteMsat()).toBe(10_050);
  });

  it('never sends the NWC secret over the relay in the clear', async () => {
    await using r = await rig();
    await r.payer.fetch(r.url);
    expect(JSON.stringify(r.relay.events)).not.toContain(r.service.clientSecret);
  });

  it('maps a wallet refusal to PAYMENT_FAILED and gives the budget back', async () => {
    await using r = await rig({ fail: true });
    await expect(r.payer.fetch(r.url)).rejects.toMatchObject({ code: 'PAYMENT_FAILED' });
    expect(r.spend.spentLastMinuteMsat()).toBe(0);
  });

  it('refuses a wrong preimage from the wallet', async () => {
    await using r = await rig({ wrongPreimage: true });
    await expect(r.payer.fetch(r.url)).rejects.toMatchObject({ code: 'PREIMAGE_MISMATCH' });
  });

  it('reports an unanswered payment as PAYMENT_OUTCOME_UNKNOWN, budget kept', async () => {
    await using r = await rig({ hang: true });
    await expect(r.payer.fetch(r.url)).rejects.toMatchObject({ code: 'PAYMENT_OUTCOME_UNKNOWN' });
    expect(r.spend.spentLastMinuteMsat()).toBeGreaterThan(0);
  });
});

describe('nwcWallet configuration', () => {
  it('refuses a URI file others can read, and keeps the secret out of the message', async () => {
    await using dir = await tempDir();
    const uri = `nostr+walletconnect://${'a'.repeat(64)}?relay=ws%3A%2F%2F127.0.0.1%3A1&secret=${'b'.repeat(64)}`;
    await writeFile(dir.join('uri'), uri);
    await chmod(dir.join('uri'), 0o644);
    const error = (await nwcWallet({ uriFile: dir.join('uri') }).catch((e: unknown) => e)) as Error & { code: string };
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).not.toContain('b'.repeat(64));
  });

  it('reads NWC_URI once and deletes it from the environment', async () => {
    const env: Record<string, string | undefined> = { NWC_URI: 'not-a-uri-but-secret-ish' };
    const error = (await nwcWallet({ env }).catch((e: unknown) => e)) as Error & { code: string };
    expect(env.NWC_URI).toBeUndefined();
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).not.toContain('secret-ish');
  });
});
