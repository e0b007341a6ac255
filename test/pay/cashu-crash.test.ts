import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { Book } from '../../src/store/token-store.js';
import { cashuRig } from './cashu-setup.js';

describe('a wallet process killed with -9 between holding proofs and the mint\'s answer', () => {
  it('loses nothing: another process reconciles with the mint and every sat is spendable once', async () => {
    await using rig = await cashuRig();
    await rig.fund(100);
    rig.mint.knobs.holdAnswerTo = '/v1/swap';
    const swaps = rig.mint.stats.swaps;
    const worker = spawn(process.execPath, ['--import', 'tsx', 'test/pay/cashu-worker.ts'], {
      env: { ...process.env, MINT_PORT: String(rig.mint.port), STORE_DIR: rig.store.dir, CONFINE_TO: rig.store.dir.replace(/\/store$/, '') },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    await once(worker.stdout, 'data');
    // Wait until the mint has done the worker's swap: its inputs are spent, its answer held.
    for (let i = 0; i < 200 && rig.mint.stats.swaps === swaps; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(rig.mint.stats.swaps).toBe(swaps + 1);
    worker.kill('SIGKILL');
    await once(worker, 'exit');
    rig.mint.knobs.holdAnswerTo = undefined;

    // What the dead process left: an open swap holding its inputs, which the mint has spent.
    const book = JSON.parse(String((await (await rig.openStore()).get(`cashu:v1:${rig.mintUrl}:sat`))?.book)) as Book;
    expect(book.ops.map((op) => op.kind)).toEqual(['swap']);
    const held = book.proofs.filter((entry) => entry.op !== undefined);
    expect(held.length).toBeGreaterThan(0);
    expect(held.every((entry) => rig.mint.stateOf(entry.proof.secret) === 'SPENT')).toBe(true);

    const next = rig.open({ store: await rig.openStore() });
    expect(await next.reconcile()).toEqual({ settled: 1, open: 0, balanceSat: 100 });
    // Every restored sat is real: all of it can be handed over and redeemed by someone else.
    const token = await next.send(100);
    const payee = rig.open({ store: await rig.openStoreAt('payee') });
    expect((await payee.receive(token.token)).amountSat).toBe(100);
    await next.close();
    await payee.close();
  });
});
