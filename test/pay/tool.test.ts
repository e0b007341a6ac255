import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createGateway, verifyAuditLog } from '../../src/index.js';
import { readAudit } from '../helpers/audit.js';
import { startL402Server } from '../helpers/l402-server.js';
import { fakeLightning } from '../helpers/lightning.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { tempDir } from '../helpers/temp-dir.js';
import { testZone } from '../net/setup.js';
import { guardedMintRequest } from '../../src/pay/wallets/cashu/mint-request.js';
import { startNut24Server } from '../helpers/nut24-server.js';
import { cashuRig } from './cashu-setup.js';

describe('pay.fetch tool and gw.pay', () => {
  it('pays through the pipeline, audits the call and the payment, and never writes a preimage or token to the audit log', async () => {
    await using dir = await tempDir();
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning);
    const gw = await createGateway(
      {
        policy: { allowTools: ['pay.fetch'] },
        audit: { file: dir.join('audit.jsonl') },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
        payments: { maxAutoPaySats: 50, credentialStoreDir: dir.join('credentials'), credentialStoreConfineTo: dir.path },
      },
      { wallet: lightning.wallet({ feeMsat: 120 }), resolver: testZone(), dial: loopbackOnlyDial(), keyProvider: { description: 'test key', getKey: () => Promise.resolve(new Uint8Array(32).fill(5)) } },
    );
    const result = await gw.call<{ status: number; body: string }>('pay.fetch', { url: `http://api.test:${server.port}/paid/report` }, { actor: 'agent-7' });
    expect(result).toMatchObject({ status: 200, body: 'paid:GET /paid/report' });
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/x`, headers: { authorization: 'L402 stolen' } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(gw.spend.spentLastMinuteMsat()).toBe(10_120);
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.tool, r.decision])).toEqual([
      ['pay.payment', 'allow'],
      ['pay.fetch', 'allow'],
      ['pay.fetch', 'deny'],
    ]);
    expect(records[0]?.details).toMatchObject({ outcome: 'paid', amount_msat: 10_000, fee_msat: 120, origin: `http://api.test:${server.port}` });
    expect(await verifyAuditLog(dir.join('audit.jsonl'))).toMatchObject({ ok: true, records: 3 }); // records with details chain too
    const text = await readFile(dir.join('audit.jsonl'), 'utf8');
    for (const preimage of lightning.preimages()) expect(text).not.toContain(preimage);
    expect(text).not.toMatch(/AgE|macaroon/);
  });

  it('pays an X-Cashu 402 with ecash through the pipeline; the audit names the method and mint, never the token', async () => {
    await using dir = await tempDir();
    await using rig = await cashuRig();
    await rig.fund(100);
    await using server = await startNut24Server({ mints: [rig.mintUrl], amountSat: 12 }, guardedMintRequest(rig.net.fetch, 2000));
    const gw = await createGateway(
      {
        policy: { allowTools: ['pay.fetch'] },
        audit: { file: dir.join('audit.jsonl') },
        connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } },
      },
      { cashu: rig.wallet, resolver: testZone(), dial: loopbackOnlyDial() },
    );
    expect(await gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/ecash` })).toMatchObject({ status: 200, body: 'paid:GET /paid/ecash' });
    await expect(gw.call('pay.fetch', { url: `http://api.test:${server.port}/paid/x`, headers: { 'x-cashu': 'cashuBforged' } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await gw.pay.cashu?.balance()).toMatchObject({ availableSat: 88, pendingSat: 0 });
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records[0]).toMatchObject({ tool: 'pay.payment', decision: 'allow', details: { outcome: 'paid', method: 'cashu', mint: rig.mintUrl, amount_msat: 12_000 } });
    const text = await readFile(dir.join('audit.jsonl'), 'utf8');
    expect(server.seller.state.tokens).toHaveLength(1);
    expect(text).not.toContain(server.seller.state.tokens[0]);
    expect(text).not.toContain('cashuB');
  });

  it('has no pay.fetch tool without a wallet, and gw.pay says why it cannot pay', async () => {
    const lightning = fakeLightning();
    await using server = await startL402Server(lightning);
    await using gw = await createGateway(
      { policy: { allowTools: ['*'] }, connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'] } } },
      { resolver: testZone(), dial: loopbackOnlyDial(), logger: { warn: () => undefined } },
    );
    expect(gw.listTools().map((t) => t.name)).not.toContain('pay.fetch');
    await expect(gw.pay.fetch(`http://api.test:${server.port}/paid/x`)).rejects.toMatchObject({ code: 'PAYMENT_FAILED' });
    expect(gw.spend.spentLastMinuteMsat()).toBe(0);
  });
});
