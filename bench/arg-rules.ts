// gw.call on a host tool with 20 argument rules (the one that allows the call is the last, so
// every call evaluates all 20: ranges, sets, globs and bounded regexes) versus gw.call on the
// same tool with no rules, in one process on the same data. Rounds alternate so that both see
// the same machine. Target: with rules >= 0.8x without.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { createGateway, defineTool, type GatewayConfig } from '../src/index.js';
import { compileRules, evaluateRules } from '../src/policy/rules/compile.js';
import { argumentRulesSchema } from '../src/policy/rules/schema.js';
import { fmt, median, opsPerSecond, reportRatio } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 5_000);
// Many short rounds, the order swapped every round: the machine is shared, and its load drifts.
const ROUNDS = 12;

const schema = z.object({ id: z.number().int(), name: z.string().max(100), region: z.string().max(20), tags: z.array(z.string()).max(10) });
const args = { id: 42, name: 'widget-7', region: 'eu-west', tags: ['a', 'b', 'c'] };

const rules: NonNullable<NonNullable<GatewayConfig['policy']>['rules']> = [];
for (let i = 0; i < 19; i++) {
  const kind = i % 4;
  const when =
    kind === 0
      ? { id: { min: 1000 + i, max: 2000 + i } }
      : kind === 1
        ? { region: { in: [`us-${i}`, `ap-${i}`] } }
        : kind === 2
          ? { name: { glob: `gadget-${i}-*` } }
          : { name: { regex: `(thing|item)-${i}[0-9]*` } };
  rules.push({ id: `r${i}`, tool: 'bench.noop', effect: i % 2 === 0 ? 'deny' : 'allow', when });
}
rules.push({ id: 'r19', tool: 'bench.noop', effect: 'allow', when: { id: { min: 1, max: 100 }, region: { in: ['eu-west', 'eu-central'] }, name: { regex: 'widget-[0-9]+' }, tags: { in: ['a', 'b', 'c'] } } });

const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));
const tool = defineTool({ name: 'bench.noop', description: 'Does nothing.', inputSchema: schema, execute: () => null });
const plain = await createGateway({ policy: { allowTools: ['bench.*'] }, audit: { file: join(dir, 'plain.jsonl') } });
const ruled = await createGateway({ policy: { allowTools: ['bench.*'], rules }, audit: { file: join(dir, 'ruled.jsonl') } });
plain.register(tool);
ruled.register(tool);

async function round(gw: typeof plain): Promise<void> {
  for (let i = 0; i < CALLS; i++) await gw.call('bench.noop', args, { actor: 'bench' });
}

await round(plain);
await round(ruled);
const without: number[] = [];
const withRules: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  if (r % 2 === 0) {
    without.push(await opsPerSecond(CALLS, () => round(plain)));
    withRules.push(await opsPerSecond(CALLS, () => round(ruled)));
  } else {
    withRules.push(await opsPerSecond(CALLS, () => round(ruled)));
    without.push(await opsPerSecond(CALLS, () => round(plain)));
  }
}
await Promise.all([plain.close(), ruled.close()]);
await rm(dir, { recursive: true, force: true });

// The rules' own cost, measured alone: what the ratio above is made of, without the machine's noise.
const compiled = compileRules(argumentRulesSchema.parse(rules)).get('bench.noop') ?? [];
let evalSink = 0;
const evalOps = await opsPerSecond(CALLS * 20, () => {
  for (let i = 0; i < CALLS * 20; i++) evalSink += evaluateRules('bench.noop', compiled, args, 'bench').effect.length;
});
if (evalSink === 0) throw new Error('unreachable');

const withoutOps = median(without);
const withOps = median(withRules);
console.log(`arg-rules: ${CALLS} calls x ${ROUNDS} rounds (median), audit to a file`);
console.log(`  gw.call, no argument rules: ${fmt(withoutOps)} calls/s`);
console.log(`  gw.call, 20 argument rules: ${fmt(withOps)} calls/s`);
console.log(`  20 rules evaluated alone: ${fmt(1e6 / evalOps, 2)} us per call; gw.call without rules: ${fmt(1e6 / withoutOps, 2)} us per call`);
reportRatio('with 20 rules / without', withOps / withoutOps, 0.8);
