import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(import.meta.url);
const factoryPath = require.resolve('libpg-query/wasm/libpg-query.js');
const factory = require(factoryPath);
const wasmPath = factoryPath.replace(/\.js$/, '.wasm');
let t = performance.now();
const compiled = await WebAssembly.compile(readFileSync(wasmPath));
console.log('compile ms', Math.round(performance.now() - t), 'rss', Math.round(process.memoryUsage().rss / 1e6));
for (let i = 0; i < 5; i++) {
  t = performance.now();
  const m = await factory({ instantiateWasm: (imports: WebAssembly.Imports, done: (i: WebAssembly.Instance) => void) => { done(new WebAssembly.Instance(compiled, imports)); return {}; } });
  const ms = performance.now() - t;
  console.log('instantiate ms', ms.toFixed(1), 'heap bytes', m.HEAPU8.length, 'rss', Math.round(process.memoryUsage().rss / 1e6), typeof m._wasm_parse_query_raw, typeof m.lengthBytesUTF8);
}
