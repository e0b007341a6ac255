import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGateway, loadGatewayConfig } from '../../src/index.js';
import { cashuRig } from './cashu-setup.js';

describe('CASHU_TOKENS → the Cashu book → pay.balance', () => {
  it("moves 402-mcp's plaintext token file into the wallet named by the hint, and pay.balance shows it", async () => {
    await using rig = await cashuRig();
    const home = join(rig.store.dir, '..');
    const file = join(home, 'cashu-tokens.json');
    await writeFile(file, JSON.stringify([await rig.strangerToken(30), await rig.strangerToken(12)]), { mode: 0o600 });
    const { config, hints } = await loadGatewayConfig({ text: 'policy:\n  allow_tools: [pay.balance]\n', env: { CASHU_TOKENS: file }, warn: () => undefined });
    expect(hints).toEqual({ cashuTokensFile: file });
    const imported = await rig.wallet.importTokenFile(hints.cashuTokensFile ?? '', { confineTo: home });
    expect(imported).toMatchObject({ received: 2, receivedSat: 42, backup: `${file}.bak` });
    await using gw = await createGateway(config, { cashu: rig.wallet, logger: { warn: () => undefined } });
    expect(await gw.call('pay.balance', {})).toMatchObject({ cashu: { availableSats: 42, pendingSats: 0 }, lightning: null });
  });
});
