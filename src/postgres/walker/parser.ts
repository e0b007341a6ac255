// PostgreSQL's own parser (libpg-query, WebAssembly), in instances of our own. Deep input can
// exhaust the JavaScript stack inside the parser's C recursion; the exception unwinds through C
// frames that never run their cleanup (PostgreSQL's error and memory-context state is left
// pointing into dead frames), and a few such queries later the instance reads out of bounds. So an
// instance that threw is never used again: a spare, instantiated ahead of time, takes its place at
// once, and a new spare is made in the background. The compiled module is shared; an instance
// costs about 1 MB and 30 ms.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

interface WasmParser {
  _malloc(size: number): number;
  _free(pointer: number): void;
  lengthBytesUTF8(text: string): number;
  stringToUTF8(text: string, pointer: number, size: number): void;
  UTF8ToString(pointer: number): string;
  getValue(pointer: number, type: 'i32'): number;
  _wasm_parse_query_raw(pointer: number): number;
  _wasm_free_parse_result(pointer: number): void;
}

type Factory = (options: { instantiateWasm: (imports: object, done: (instance: object) => void) => object }) => Promise<WasmParser>;

// The project's lib settings leave WebAssembly untyped; this is the part used here.
interface WebAssemblyApi {
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => object;
}
const wasm = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

/** Instances kept ready beyond the one in use. */
const SPARES = 2;

const require = createRequire(import.meta.url);
let compiled: Promise<{ factory: Factory; module: object }> | undefined;
let current: WasmParser | undefined;
const spares: WasmParser[] = [];
let making = 0;
let loading: Promise<void> | undefined;

function compile(): Promise<{ factory: Factory; module: object }> {
  compiled ??= (async () => {
    const factoryPath = require.resolve('libpg-query/wasm/libpg-query.js');
    const factory = require(factoryPath) as Factory;
    const module = await wasm.compile(readFileSync(factoryPath.replace(/\.js$/, '.wasm')));
    return { factory, module };
  })();
  return compiled;
}

async function instantiate(): Promise<WasmParser> {
  const { factory, module } = await compile();
  return factory({
    instantiateWasm: (imports, done) => {
      done(new wasm.Instance(module, imports));
      return {};
    },
  });
}

/** Brings the spares back to SPARES, in the background; failures only leave fewer spares. */
function replenish(): void {
  while (spares.length + making < SPARES) {
    making++;
    instantiate().then(
      (parser) => {
        making--;
        if (current === undefined) current = parser;
        else spares.push(parser);
      },
      () => {
        making--;
      },
    );
  }
}

/** Loads the parser (and, in the background, its spares); resolves when an instance is ready. */
export function loadParser(): Promise<void> {
  if (current !== undefined) return Promise.resolve();
  loading ??= instantiate()
    .then((parser) => {
      current ??= parser;
      replenish();
    })
    .finally(() => {
      loading = undefined;
    });
  return loading;
}

export type ParseOutcome =
  | { tree: { stmts?: { stmt?: Record<string, unknown> }[] } }
  | { error: string; kind: 'syntax' | 'too-complex' | 'unavailable' };

function discard(): void {
  current = spares.shift();
  replenish();
}

/** Parses `sql` with the instance in use; never throws, and never reuses an instance that threw. */
export function parseSql(sql: string): ParseOutcome {
  const parser = current;
  if (parser === undefined) {
    replenish();
    return { error: 'the SQL parser is not loaded (call loadParser first) or is restarting', kind: 'unavailable' };
  }
  let queryPtr = 0;
  let resultPtr = 0;
  let json: string;
  try {
    const size = parser.lengthBytesUTF8(sql) + 1;
    queryPtr = parser._malloc(size);
    if (queryPtr === 0) return { error: 'the query is too large for the parser', kind: 'too-complex' };
    parser.stringToUTF8(sql, queryPtr, size);
    resultPtr = parser._wasm_parse_query_raw(queryPtr);
    if (resultPtr === 0) return { error: 'the query is too large for the parser', kind: 'too-complex' };
    const errorPtr = parser.getValue(resultPtr + 8, 'i32');
    if (errorPtr !== 0) {
      const messagePtr = parser.getValue(errorPtr, 'i32');
      const message = messagePtr === 0 ? 'unknown error' : parser.UTF8ToString(messagePtr);
      return { error: message, kind: /memory exhausted|stack depth/i.test(message) ? 'too-complex' : 'syntax' };
    }
    const treePtr = parser.getValue(resultPtr, 'i32');
    if (treePtr === 0) return { error: 'no parse tree', kind: 'syntax' };
    json = parser.UTF8ToString(treePtr);
  } catch {
    // Stack exhausted (RangeError) or worse inside the C code: this instance is done with.
    queryPtr = 0;
    resultPtr = 0;
    if (current === parser) discard();
    return { error: 'the query is too complex to parse (nested too deeply)', kind: 'too-complex' };
  } finally {
    try {
      if (queryPtr !== 0) parser._free(queryPtr);
      if (resultPtr !== 0) parser._wasm_free_parse_result(resultPtr);
    } catch {
      if (current === parser) discard();
    }
  }
  try {
    return { tree: JSON.parse(json) as { stmts?: { stmt?: Record<string, unknown> }[] } };
  } catch {
    return { error: 'the query is too complex to parse', kind: 'too-complex' };
  }
}
