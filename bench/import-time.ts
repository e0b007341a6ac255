// import('portcullis') (the built dist/index.js) versus import('undici'), each in a fresh node
// process, RUNS runs alternated, medians compared in the same run. Needs `npm run build` first.
// Also estimates the root without the payments code (Lightning, ecash, credential store, which
// createGateway's set-up still imports eagerly on this branch): the root minus what
// dist/payments.js adds in a fresh process that has already imported zod and undici.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 9);
const root = fileURLToPath(new URL('../', import.meta.url));
const dist = `${root}dist/index.js`;
if (!existsSync(dist)) throw new Error('bench/import-time.ts needs the build: run `npm run build` first.');

/** Milliseconds a fresh node process takes to import `specifier` (after `before`, not timed). */
function importMs(specifier: string, before: readonly string[] = []): number {
  const script = `${before.map((b) => `await import(${JSON.stringify(b)});`).join('')}const t = performance.now(); await import(${JSON.stringify(specifier)}); process.stdout.write(String(performance.now() - t));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }));
}

const undici: number[] = [];
const portcullis: number[] = [];
const payments: number[] = [];
importMs('undici');
importMs(dist);
for (let run = 0; run < RUNS; run++) {
  undici.push(importMs('undici'));
  portcullis.push(importMs(dist));
  payments.push(importMs(`${root}dist/payments.js`, ['zod', 'undici']));
}
const withPayments = median(portcullis);
const withoutPayments = Math.max(0, withPayments - median(payments));
console.log(`import-time: fresh node processes, ${RUNS} runs each (median)`);
console.log(`  import('undici'):            ${median(undici).toFixed(0)} ms`);
console.log(`  import('portcullis'):        ${withPayments.toFixed(0)} ms (payments modules loaded eagerly)`);
console.log(`  payments modules added after zod+undici: ${median(payments).toFixed(0)} ms (estimated root without them: ${withoutPayments.toFixed(0)} ms)`);
const ratio = withPayments / median(undici);
console.log(`  ratio portcullis/undici: ${ratio.toFixed(2)}x with payments (target <= 1.5x) ${ratio <= 1.5 ? 'PASS' : 'ABOVE TARGET'}; ~${(withoutPayments / median(undici)).toFixed(2)}x without`);
