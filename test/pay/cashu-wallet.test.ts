import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isGatewayError } from '../../src/errors.js';
import type { Book } from '../../src/store/token-store.js';
import { cashuRig } from './cashu-setup.js';

const bookOf = async (rig: Awaited<ReturnType<typeof cashuRig>>, url = rig.mintUrl): Promise<Book> =>
  JSON.parse(String((await rig.store.get(`cashu:v1:${url}:sat`))?.book)) as Book;

const codeOf = async (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (isGatewayError(error) ? error.code : `other: ${String(error)}`),
  );

describe('cashuWallet: configuration and arguments', () => {
  it('refuses an empty or malformed mint list, and amounts that are not whole positive sats', async () => {
    await using rig = await cashuRig();
    expect(() => rig.open({ mints: [] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as unknown);
    expect(() => rig.open({ mints: ['not a url'] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as unknown);
    expect(() => rig.open({ mints: ['ftp://mint.test'] })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }) as unknown);
    for (const amount of [0, -1, 1.5, Number.NaN]) expect(await codeOf(rig.wallet.send(amount))).toBe('VALIDATION_FAILED');
    expect(await codeOf(rig.wallet.send(1, { mint: 'https://mint.elsewhere.example' }))).toBe('MINT_NOT_ALLOWED');
    expect(rig.mint.stats.requests).toBe(0);
  });
});

describe('cashuWallet: receive, balance, send', () => {
  it('receives a token by swapping it, so the sender cannot spend it again', async () => {
    await using rig = await cashuRig();
    const token = await rig.strangerToken(64);
    const received = await rig.wallet.receive(token);
    expect(received).toEqual({ mint: rig.mintUrl, amountSat: 64, feeSat: 0 });
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 64, pendingSat: 0 });
    // The same token again: the mint refuses it, and nothing is booked twice.
    expect(await codeOf(rig.wallet.receive(token))).toBe('TOKEN_INVALID');
    expect((await rig.wallet.balance()).availableSat).toBe(64);
    expect((await bookOf(rig)).ops).toEqual([]);
  });

  it('counts the mint\'s input fee when receiving', async () => {
    await using rig = await cashuRig({ mint: { inputFeePpk: 1000 } });
    const received = await rig.wallet.receive(await rig.strangerToken(7)); // 4 + 2 + 1: three inputs, 3 sat fee
    expect(received).toMatchObject({ amountSat: 4, feeSat: 3 });
    expect((await rig.wallet.balance()).availableSat).toBe(4);
  });

  it('refuses a token from a mint it does not deal with, before contacting that mint', async () => {
    await using rig = await cashuRig({ secondMint: {} });
    const foreign = await rig.strangerToken(8, rig.secondUrl);
    const before = rig.second!.stats.requests;
    const onlyFirst = rig.open({ mints: [rig.mintUrl] });
    expect(await codeOf(onlyFirst.receive(foreign))).toBe('MINT_NOT_ALLOWED');
    expect(rig.second!.stats.requests).toBe(before);
    expect((await onlyFirst.balance()).availableSat).toBe(0);
    await onlyFirst.close();
  });

  it('reaches mints only through the network guard: a mint name that resolves to a private address is refused before any socket opens', async () => {
    await using rig = await cashuRig();
    const privateMint = `http://private.test:${rig.mint.port}`;
    // A real token, relabelled as coming from the private-address mint the host (wrongly) listed.
    const { getDecodedToken, getEncodedToken } = await import('@cashu/cashu-ts');
    const real = getDecodedToken(await rig.strangerToken(8), [rig.mint.keysetId]);
    const relabelled = getEncodedToken({ ...real, mint: privateMint });
    const requests = rig.mint.stats.requests;
    const dialled = rig.net.dial.dialled.length;
    const wallet = rig.open({ mints: [privateMint] });
    expect(await codeOf(wallet.receive(relabelled))).toBe('SSRF_BLOCKED');
    expect(rig.net.dial.dialled.length).toBe(dialled);
    expect(rig.mint.stats.requests).toBe(requests);
    await wallet.close();
  });

  it('refuses what is not a token, without echoing it', async () => {
    await using rig = await cashuRig();
    const error = await rig.wallet.receive('cashuBnot-a-token-secret-stuff').catch((e: unknown) => e);
    expect(isGatewayError(error) && error.code).toBe('TOKEN_INVALID');
    expect(JSON.stringify(error) + String((error as Error).stack)).not.toContain('secret-stuff');
    expect(rig.mint.stats.requests).toBe(0);
  });

  it('keeps proofs encrypted at rest: no secret or signature is readable in the store files', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    const { proofs } = await bookOf(rig);
    expect(proofs.length).toBeGreaterThan(0);
    const dir = rig.store.dir;
    const files = await readdir(dir);
    const raw = (await Promise.all(files.map((f) => readFile(join(dir, f))))).map((b) => b.toString('latin1')).join('');
    for (const { proof } of proofs) {
      expect(raw).not.toContain(proof.secret);
      expect(raw).not.toContain(proof.C);
    }
  });

  it('sends a token that someone else can redeem, and books it out once confirmed', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    const out = await rig.wallet.send(10);
    expect(out).toMatchObject({ mint: rig.mintUrl, amountSat: 10, feeSat: 0 });
    expect(out.token).toMatch(/^cashuB/);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 90, pendingSat: 10 });
    // Someone else redeems it at the mint.
    const other = rig.open({ store: await rig.openStoreAt('other') });
    expect((await other.receive(out.token)).amountSat).toBe(10);
    await rig.wallet.confirm(out.id);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 90, pendingSat: 0 });
    await other.close();
  });

  it('hands over proofs that add up exactly without a swap', async () => {
    await using rig = await cashuRig();
    await rig.fund(96); // 64 + 32
    const swapsBefore = rig.mint.stats.swaps;
    const out = await rig.wallet.send(32);
    expect(out.amountSat).toBe(32);
    expect(rig.mint.stats.swaps).toBe(swapsBefore);
  });

  it('takes an unredeemed token back, so the copy handed out is worthless', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    const out = await rig.wallet.send(10);
    expect(await rig.wallet.reclaim(out.id)).toBe('reclaimed');
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
    const other = rig.open({ store: await rig.openStoreAt('other') });
    expect(await codeOf(other.receive(out.token))).toBe('TOKEN_INVALID');
    await other.close();
  });

  it('says "spent" when the payee redeemed the token before the reclaim', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    const out = await rig.wallet.send(10);
    const other = rig.open({ store: await rig.openStoreAt('other') });
    await other.receive(out.token);
    expect(await rig.wallet.reclaim(out.id)).toBe('spent');
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 90, pendingSat: 0 });
    await other.close();
  });

  it('refuses to send more than it holds, holding nothing', async () => {
    await using rig = await cashuRig();
    await rig.fund(16);
    const swaps = rig.mint.stats.swaps;
    expect(await codeOf(rig.wallet.send(17))).toBe('INSUFFICIENT_FUNDS');
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 16, pendingSat: 0 });
    expect(rig.mint.stats.swaps).toBe(swaps);
  });
});

describe('cashuWallet: a crash between holding proofs and the mint\'s answer', () => {
  it('a swap whose answer is lost: the proofs stay held, and reconcile after a restart restores every output', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    rig.mint.knobs.dropAnswerTo = '/v1/swap';
    expect(await codeOf(rig.wallet.send(10))).toBe('PAYMENT_OUTCOME_UNKNOWN');
    const during = await rig.wallet.balance();
    expect(during.pendingSat).toBeGreaterThanOrEqual(10);
    expect(during.availableSat + during.pendingSat).toBe(100);
    // The mint did the swap: the inputs held for it are spent there.
    const held = (await bookOf(rig)).proofs.filter((entry) => entry.op !== undefined).map((entry) => entry.proof.secret);
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((secret) => rig.mint.stateOf(secret) === 'SPENT')).toBe(true);
    // A new process on the same store.
    const restarted = rig.open({ store: await rig.openStore() });
    expect(await restarted.reconcile()).toEqual({ settled: 1, open: 0, balanceSat: 100 });
    expect(await restarted.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
    // Reconciling again changes nothing: nothing counted twice.
    expect(await restarted.reconcile()).toEqual({ settled: 0, open: 0, balanceSat: 100 });
    // And the restored proofs are real: they can be spent.
    const out = await restarted.send(100);
    expect(out.amountSat).toBe(100);
    await restarted.close();
  });

  it('a mint that never answers: the call gives up at timeoutMs with the outcome unknown, and reconcile settles it later', async () => {
    await using rig = await cashuRig({ wallet: { timeoutMs: 300 } });
    await rig.fund(100);
    rig.mint.knobs.holdAnswerTo = '/v1/swap';
    const started = Date.now();
    expect(await codeOf(rig.wallet.send(10))).toBe('PAYMENT_OUTCOME_UNKNOWN');
    expect(Date.now() - started).toBeLessThan(5_000);
    rig.mint.knobs.holdAnswerTo = undefined;
    expect(await rig.wallet.reconcile()).toEqual({ settled: 1, open: 0, balanceSat: 100 });
  });

  it('a swap that never reached the mint: reconcile gives the proofs back as they were', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    rig.mint.knobs.failPath = '/v1/swap';
    expect(await codeOf(rig.wallet.send(10))).toBe('PAYMENT_OUTCOME_UNKNOWN');
    rig.mint.knobs.failPath = undefined;
    expect(await rig.wallet.reconcile()).toEqual({ settled: 1, open: 0, balanceSat: 100 });
  });

  it('a receive whose answer is lost is finished by reconcile', async () => {
    await using rig = await cashuRig();
    const token = await rig.strangerToken(50);
    rig.mint.knobs.dropAnswerTo = '/v1/swap';
    expect(await codeOf(rig.wallet.receive(token))).toBe('PAYMENT_OUTCOME_UNKNOWN');
    expect((await rig.wallet.balance()).availableSat).toBe(0);
    expect(await rig.wallet.reconcile()).toEqual({ settled: 1, open: 0, balanceSat: 50 });
  });

  it('a receive that never reached the mint is done by reconcile from the token it wrote down', async () => {
    await using rig = await cashuRig();
    const token = await rig.strangerToken(50);
    rig.mint.knobs.failPath = '/v1/swap';
    expect(await codeOf(rig.wallet.receive(token))).toBe('PAYMENT_OUTCOME_UNKNOWN');
    rig.mint.knobs.failPath = undefined;
    expect(await rig.wallet.reconcile()).toEqual({ settled: 1, open: 0, balanceSat: 50 });
  });

  it('a token sent with a request whose answer never came (a restart): reconcile takes it back', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    const out = await rig.wallet.send(10, { reclaimOnReconcile: true });
    const restarted = rig.open({ store: await rig.openStore() });
    expect(await restarted.reconcile()).toEqual({ settled: 1, open: 0, balanceSat: 100 });
    const other = rig.open({ store: await rig.openStoreAt('other') });
    expect(await codeOf(other.receive(out.token))).toBe('TOKEN_INVALID');
    await other.close();
    await restarted.close();
  });

  it('leaves alone what this process is still working on: a token waiting for its answer is not taken back', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    const out = await rig.wallet.send(10, { reclaimOnReconcile: true });
    expect(await rig.wallet.reconcile()).toEqual({ settled: 0, open: 1, balanceSat: 90 });
    const payee = rig.open({ store: await rig.openStoreAt('payee') });
    expect((await payee.receive(out.token)).amountSat).toBe(10);
    await payee.close();
  });

  it('a token handed to someone on purpose stays out until they redeem it, then reconcile books it', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    const out = await rig.wallet.send(10);
    const restarted = rig.open({ store: await rig.openStore() });
    expect(await restarted.reconcile()).toEqual({ settled: 0, open: 1, balanceSat: 90 });
    const payee = rig.open({ store: await rig.openStoreAt('payee') });
    expect((await payee.receive(out.token)).amountSat).toBe(10);
    expect(await restarted.reconcile()).toEqual({ settled: 1, open: 0, balanceSat: 90 });
    expect(await restarted.balance()).toMatchObject({ availableSat: 90, pendingSat: 0 });
    await payee.close();
    await restarted.close();
  });
});

describe('cashuWallet: melt (paying a Lightning invoice from ecash)', () => {
  it('pays an invoice with proofs selected across every token received, and books the change', async () => {
    await using rig = await cashuRig({ mint: { meltFeeReserveSats: 4, meltFeeSats: 1 } });
    for (let i = 0; i < 3; i += 1) await rig.fund(10); // three tokens of 10 (8 + 2)
    const invoice = rig.lightning.createInvoice({ amountMsat: 24_000 });
    const paid = await rig.wallet.payInvoice({ invoice: invoice.bolt11, maxFeeMsat: 5_000, signal: AbortSignal.timeout(2000) });
    expect(paid).toEqual({ preimage: invoice.preimage, feesPaidMsat: 1_000 });
    expect(rig.lightning.isPaid(invoice.paymentHash)).toBe(true);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 5, pendingSat: 0 });
  });

  it('refuses when the fee reserve is over the limit, before any melt reaches the mint', async () => {
    await using rig = await cashuRig({ mint: { meltFeeReserveSats: 20 } });
    await rig.fund(100);
    const invoice = rig.lightning.createInvoice({ amountMsat: 10_000 });
    expect(await codeOf(rig.wallet.payInvoice({ invoice: invoice.bolt11, maxFeeMsat: 10_000, signal: AbortSignal.timeout(2000) }))).toBe('PAYMENT_FAILED');
    expect(rig.mint.stats.melts).toBe(0);
    expect(rig.lightning.isPaid(invoice.paymentHash)).toBe(false);
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
  });

  it('a failed Lightning payment gives every proof back', async () => {
    await using rig = await cashuRig({ mint: { meltMode: 'fail' } });
    await rig.fund(100);
    const invoice = rig.lightning.createInvoice({ amountMsat: 10_000 });
    expect(await codeOf(rig.wallet.payInvoice({ invoice: invoice.bolt11, maxFeeMsat: 10_000, signal: AbortSignal.timeout(2000) }))).toBe('PAYMENT_FAILED');
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 100, pendingSat: 0 });
  });

  it('a pending melt keeps the proofs held; lookupPayment settles it once the mint has paid', async () => {
    await using rig = await cashuRig({ mint: { meltMode: 'pending', meltFeeReserveSats: 2, meltFeeSats: 1 } });
    await rig.fund(100);
    const invoice = rig.lightning.createInvoice({ amountMsat: 20_000 });
    const error = await rig.wallet.payInvoice({ invoice: invoice.bolt11, maxFeeMsat: 10_000, signal: AbortSignal.timeout(2000) }).catch((e: unknown) => e);
    // Not PAYMENT_FAILED: the payer must treat the outcome as unknown.
    expect(error).toBeInstanceOf(Error);
    expect(isGatewayError(error) && error.code === 'PAYMENT_FAILED').toBe(false);
    const pending = await rig.wallet.balance();
    expect(pending.pendingSat).toBeGreaterThanOrEqual(22);
    expect(pending.availableSat + pending.pendingSat).toBe(100);
    expect(await rig.wallet.lookupPayment!(invoice.paymentHash, { signal: AbortSignal.timeout(2000) })).toBeUndefined();
    await rig.mint.settleMelts();
    expect(await rig.wallet.lookupPayment!(invoice.paymentHash, { signal: AbortSignal.timeout(2000) })).toEqual({ preimage: invoice.preimage });
    expect(await rig.wallet.balance()).toMatchObject({ availableSat: 79, pendingSat: 0 });
  });

  it('a melt whose answer is lost is settled by reconcile after a restart', async () => {
    await using rig = await cashuRig({ mint: { meltFeeReserveSats: 2, meltFeeSats: 1 } });
    await rig.fund(100);
    const invoice = rig.lightning.createInvoice({ amountMsat: 20_000 });
    rig.mint.knobs.dropAnswerTo = '/v1/melt/bolt11';
    await expect(rig.wallet.payInvoice({ invoice: invoice.bolt11, maxFeeMsat: 10_000, signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    expect(rig.lightning.isPaid(invoice.paymentHash)).toBe(true);
    const restarted = rig.open({ store: await rig.openStore() });
    expect(await restarted.reconcile()).toEqual({ settled: 1, open: 0, balanceSat: 79 });
    await restarted.close();
  });
});

describe('cashuWallet: a legacy plaintext token file (CASHU_TOKENS)', () => {
  it('swaps every token in, so the plaintext copies are worthless, and keeps the file as a 0600 backup', async () => {
    await using rig = await cashuRig();
    const fresh = await rig.strangerToken(40);
    const spent = await rig.strangerToken(8);
    await rig.open({ store: await rig.openStoreAt('someone') }).receive(spent); // already spent elsewhere
    const { writeFile, stat } = await import('node:fs/promises');
    const file = join(rig.store.dir, '..', 'cashu-tokens.json');
    await writeFile(file, JSON.stringify({ tokens: [fresh, spent], note: 'not a token' }), { mode: 0o644 });
    const result = await rig.wallet.importTokenFile(file, { confineTo: join(rig.store.dir, '..') });
    expect(result).toMatchObject({ received: 1, receivedSat: 40, refused: { TOKEN_INVALID: 1 } });
    expect((await rig.wallet.balance()).availableSat).toBe(40);
    expect(((await stat(`${file}.bak`)).mode & 0o777).toString(8)).toBe('600');
    await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    // The plaintext copy cannot be spent by whoever read the file.
    expect(await codeOf(rig.open({ store: await rig.openStoreAt('thief') }).receive(fresh))).toBe('TOKEN_INVALID');
  });

  it('refuses a path outside the confinement, also through a symlink, without reading it or calling a mint', async () => {
    await using rig = await cashuRig();
    const { mkdir, symlink, writeFile, readFile: read } = await import('node:fs/promises');
    const base = join(rig.store.dir, '..');
    await mkdir(join(base, 'home'));
    await mkdir(join(base, 'elsewhere'));
    const outside = join(base, 'elsewhere', 'tokens.txt');
    await writeFile(outside, await rig.strangerToken(8));
    await symlink(outside, join(base, 'home', 'tokens.txt'));
    const requests = rig.mint.stats.requests;
    expect(await codeOf(rig.wallet.importTokenFile(outside, { confineTo: join(base, 'home') }))).toBe('PATH_NOT_ALLOWED');
    expect(await codeOf(rig.wallet.importTokenFile(join(base, 'home', 'tokens.txt'), { confineTo: join(base, 'home') }))).toBe('PATH_NOT_ALLOWED');
    expect(rig.mint.stats.requests).toBe(requests);
    expect((await read(outside, 'utf8')).startsWith('cashuB')).toBe(true);
    expect(await rig.wallet.importTokenFile(join(base, 'home', 'none.txt'), { confineTo: join(base, 'home') })).toMatchObject({ received: 0, backup: undefined });
  });
});
