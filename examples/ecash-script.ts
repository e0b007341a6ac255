// A script that pays an ecash API (HTTP 402 with an X-Cashu NUT-18 request, NUT-24) from a Cashu
// wallet kept in the encrypted credential store. Offline it runs against a local demo mint and
// API, funding the wallet from a demo faucet; with CASHU_MINT_URL, CASHU_TOKEN (a cashuB token
// to fund it) and PAID_API_URL set it uses that mint and API.
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mint, Wallet, getEncodedToken } from '@cashu/cashu-ts';
import { createGateway } from 'portcullis';
import { cashuWallet } from 'portcullis/pay';
import { guardedMintRequest } from '../src/pay/wallets/cashu/mint-request.js';
import { createGuardedFetch } from 'portcullis/net';
import { createCredentialStore } from 'portcullis/store';
import { startCashuMint } from '../test/helpers/cashu-mint.js';
import { fakeLightning } from '../test/helpers/lightning.js';
import { startNut24Server } from '../test/helpers/nut24-server.js';

const local = process.env.CASHU_MINT_URL === undefined || process.env.CASHU_MINT_URL === '';
const loopback = { allowNetworks: ['127.0.0.1/32'], resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 as const }]) };
let mintUrl: string;
let url: string;
let fundingToken: string | undefined = process.env.CASHU_TOKEN;
let stop = (): Promise<void> => Promise.resolve();
if (local) {
  const mint = await startCashuMint(fakeLightning());
  mintUrl = `http://mint.local.test:${mint.port}`;
  const mintFetch = createGuardedFetch({ allowedDomains: ['mint.local.test'], allowedPorts: [mint.port], ...loopback });
  const api = await startNut24Server({ mints: [mintUrl], amountSat: 21 }, guardedMintRequest(mintFetch, 5000));
  url = `http://paid.local.test:${api.port}/v1/report`;
  // The demo faucet: someone else mints 100 sats and hands us the token.
  const faucet = new Wallet(new Mint(mintUrl, { customRequest: guardedMintRequest(mintFetch, 5000) }), { unit: 'sat' });
  await faucet.loadMint();
  const quote = await faucet.createMintQuoteBolt11(100);
  fundingToken = getEncodedToken({ mint: mintUrl, unit: 'sat', proofs: await faucet.mintProofsBolt11(100, quote.quote) });
  stop = async () => {
    await api.close();
    await mintFetch.close();
    await mint.close();
  };
} else {
  mintUrl = process.env.CASHU_MINT_URL ?? '';
  url = process.env.PAID_API_URL ?? 'https://example.com/';
}

// Offline, a throwaway store; for real use, a directory of yours that lasts (the proofs are money).
const scratch = local ? await mkdtemp(join(tmpdir(), 'portcullis-ecash-')) : undefined;
const dir = scratch === undefined ? join(homedir(), '.portcullis', 'cashu') : join(scratch, 'store');
const store = await createCredentialStore({ dir, confineTo: scratch ?? homedir(), ...(local ? { warn: () => undefined } : {}) });
const mintPort = Number(new URL(mintUrl).port);
const cashu = cashuWallet({
  mints: [mintUrl],
  store,
  ...(local ? { fetch: createGuardedFetch({ allowedDomains: ['mint.local.test'], allowedPorts: [mintPort], ...loopback }) } : {}),
});
if (fundingToken !== undefined && fundingToken !== '') console.log(`received ${(await cashu.receive(fundingToken)).amountSat} sats`);
await cashu.reconcile(); // settles whatever an earlier run left open

const gw = await createGateway(
  {
    connectors: {
      http: local
        ? { allowedDomains: ['paid.local.test'], allowedPorts: [Number(new URL(url).port)], allowNetworks: loopback.allowNetworks }
        : { allowedDomains: [new URL(url).hostname] },
    },
    payments: { maxAutoPaySats: 100, maxSpendPerMinuteSats: 1000 },
  },
  { cashu, ...(local ? { resolver: loopback.resolver } : {}) },
);
const response = await gw.pay.fetch(url, {}, { maxAmountSats: 50 });
console.log(`${response.status} ${await response.text()}`);
console.log(`balance: ${JSON.stringify(await cashu.balance())}`);
await gw.close();
await cashu.close();
await stop();
if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
