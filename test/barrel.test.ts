import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Bare module specifiers statically imported by `entry` and every local module it reaches. */
function staticImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const bare = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    // `import … from '…'` and `export … from '…'`, not `import type` (erased) nor `import('…')`
    // (loaded only when used). `import { type X }` stays: it still loads the module.
    for (const match of text.matchAll(/^\s*(?:import|export)\s(?!type\s)[^;]*?from\s+'([^']+)'/gm)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) visit(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      else bare.add(specifier);
    }
  };
  visit(resolve(entry));
  return bare;
}

describe('public entry points', () => {
  it('the root entry never loads an optional heavy dependency eagerly', () => {
    const imports = staticImports('src/index.ts');
    for (const heavy of ['@electric-sql/pglite', '@napi-rs/keyring', 'pg', 'libpg-query', 'ai', '@langchain/core', '@modelcontextprotocol/sdk', '@getalby/sdk', 'ws', '@cashu/cashu-ts']) {
      expect([...imports].some((name) => name === heavy || name.startsWith(`${heavy}/`)), heavy).toBe(false);
    }
    expect([...imports].filter((name) => !name.startsWith('node:')).sort()).toEqual(
      // yaml, ipaddr.js and undici load on first use; the payer, bolt11 (@noble/curves, @scure/base) and the credential store (@noble/ciphers) when payments need them.
      ['zod'].sort(),
    );
  });

  it('every subpath export has its entry file', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, { types?: string }> };
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (target.types === undefined) continue;
      const source = target.types.replace('./dist/', 'src/').replace(/\.d\.ts$/, '.ts');
      expect(() => readFileSync(source), subpath).not.toThrow();
    }
  });
});
