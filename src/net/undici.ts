import { createRequire } from 'node:module';
import type * as Undici from 'undici';

let loaded: typeof Undici | undefined;

/**
 * undici, loaded at the first guarded agent or fetch rather than when the package is imported.
 * It is a CommonJS package: `require` returns the same module instance an `import 'undici'`
 * gives, so classes such as `Response` and `Headers` are the ones callers import.
 */
export function undici(): typeof Undici {
  return (loaded ??= createRequire(import.meta.url)('undici') as typeof Undici);
}
