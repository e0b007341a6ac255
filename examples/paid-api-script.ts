// A script that calls a paid API (HTTP 402, L402) within a budget. With NWC_URI_FILE set (a
// 0600 file holding a nostr+walletconnect:// URI) it pays with that real wallet and calls
// PAID_API_URL; otherwise it runs offline against a local demo API and a demo wallet.
import { createGateway } from 'portcullis';
import { nwcWallet, type Wallet } from 'portcullis/pay';
import { startL402Server } from '../test/helpers/l402-server.js';
import { fakeLightning } from '../test/helpers/lightning.js';

const uriFile = process.env.NWC_URI_FILE === '' ? undefined : process.env.NWC_URI_FILE;
let wallet: Wallet;
let url: string;
let stop = (): Promise<void> => Promise.resolve();
const local = uriFile === undefined;
if (local) {
  const lightning = fakeLightning();
  const api = await startL402Server(lightning, { amountMsat: 50_000 });
  wallet = lightning.wallet();
  url = `http://paid.local.test:${api.port}/v1/quote`;
  stop = () => api.close();
} else {
  wallet = await nwcWallet({ uriFile });
  url = process.env.PAID_API_URL ?? 'https://example.com/';
}

const gw = await createGateway(
  {
    connectors: {
      http: local
        ? { allowedDomains: ['paid.local.test'], allowedPorts: [Number(new URL(url).port)], allowNetworks: ['127.0.0.1/32'] }
        : { allowedDomains: [new URL(url).hostname] },
    },
    payments: { maxAutoPaySats: 100, maxSpendPerMinuteSats: 1000 },
  },
  { wallet, ...(local ? { resolver: () => Promise.resolve([{ address: '127.0.0.1', family: 4 as const }]) } : {}) },
);
const response = await gw.pay.fetch(url, {}, { maxAmountSats: 100 });
console.log(`${response.status} ${await response.text()}`);
console.log(`spent in the last minute: ${(await gw.spend.spentLastMinuteMsat()) / 1000} sats`);
await gw.close();
await stop();
