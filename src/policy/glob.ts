/**
 * Tool-name globs. `*` matches any run of characters (dots included, so `fs.*` matches
 * `fs.readFile` and `*` matches every tool) and `?` exactly one character. Everything else is
 * literal. Patterns are compiled once into anchored regular expressions.
 */
export interface CompiledGlob {
  readonly pattern: string;
  test(name: string): boolean;
}

const SPECIAL = /[.+^${}()|[\]\\/]/g;

/** Compiles one glob pattern. */
export function compileGlob(pattern: string): CompiledGlob {
  if (!pattern.includes('*') && !pattern.includes('?')) {
    return { pattern, test: (name) => name === pattern };
  }
  const source = pattern.replace(SPECIAL, '\\$&').replaceAll('*', '.*').replaceAll('?', '.');
  const regex = new RegExp(`^${source}$`, 's');
  return { pattern, test: (name) => regex.test(name) };
}

/** A compiled list of globs; `match` returns the first pattern that matches, if any. */
export interface GlobList {
  readonly patterns: readonly string[];
  match(name: string): string | undefined;
}

/** Compiles a list of glob patterns. */
export function compileGlobList(patterns: readonly string[]): GlobList {
  const compiled = patterns.map(compileGlob);
  return {
    patterns,
    match(name) {
      for (const glob of compiled) if (glob.test(name)) return glob.pattern;
      return undefined;
    },
  };
}
