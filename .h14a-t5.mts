import { loadModule, parseSync } from 'libpg-query';
await loadModule();
const refSql = "SELECT a, b FROM t WHERE x = (SELECT max(y) FROM u WHERE u.id = t.id AND (1+2*3) > 4) ORDER BY 1";
const ref = JSON.stringify(parseSync(refSql));
const deep = "SELECT " + Array(20000).fill("'a'").join('||');
const mid = "SELECT " + Array(2000).fill("'a'").join('||');
const midRef = JSON.stringify(parseSync(mid));
let fails = 0, wasmFails = 0;
for (let i = 0; i < 3000; i++) {
  try { parseSync(deep); } catch (e) { fails++; if (String((e as Error).stack).includes('wasm-function')) wasmFails++; }
  if (i % 500 === 0) { const ok = JSON.stringify(parseSync(refSql)) === ref && JSON.stringify(parseSync(mid)) === midRef; console.log(i, 'fails', fails, 'wasm', wasmFails, 'ok', ok, 'rss', Math.round(process.memoryUsage().rss/1e6)); }
}
let okAll = true;
for (let i = 0; i < 100; i++) okAll &&= JSON.stringify(parseSync(refSql)) === ref && JSON.stringify(parseSync(mid)) === midRef;
console.log('final ok', okAll, 'rss', Math.round(process.memoryUsage().rss/1e6));
