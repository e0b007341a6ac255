/**
 * Tool-name globs. `*` matches any run of characters (dots included, so `fs.*` matches
 * `fs.readFile` and `*` matches every tool) and `?` exactly one character. Everything else is
 * literal. The whole name must match; matching takes time linear in the pattern times the name.
 */
export interface CompiledGlob {
  readonly pattern: string;
  test(name: string): boolean;
}

/**
 * Whether `value` matches `pattern` as a whole, with `*` any run and `?` one UTF-16 unit. The
 * classic two-pointer walk that backs up to the last `*` only: O(pattern × value) at worst,
 * never the exponential backtracking a `.*a.*a.*b` regular expression does on a long value
 * (argument rules run globs on agent-chosen strings).
 */
function wildcard(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    const c = pattern.charCodeAt(p);
    if (p < pattern.length && c !== 42 && (c === 63 || c === value.charCodeAt(v))) {
      p += 1;
      v += 1;
    } else if (p < pattern.length && c === 42) {
      star = p;
      resume = v;
      p += 1;
    } else if (star !== -1) {
      p = star + 1;
      resume += 1;
      v = resume;
    } else return false;
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p += 1;
  return p === pattern.length;
}

/** Compiles one glob pattern. */
export function compileGlob(pattern: string): CompiledGlob {
  if (!pattern.includes('*') && !pattern.includes('?')) {
    return { pattern, test: (name) => name === pattern };
  }
  return { pattern, test: (name) => wildcard(pattern, name) };
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
