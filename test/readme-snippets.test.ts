import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/**
 * README code blocks that are copies of a type-checked file: each is marked with
 * `<!-- snippet: path/to/file.ts -->` on the line before its fence. The file imports from the
 * sources (`../src/…`); the README shows the package's entry points instead.
 */
const SNIPPETS = ['examples/fleet.ts'];

/** Source paths in examples and the public entry points the README shows instead. */
const ENTRY_POINTS: Readonly<Record<string, string>> = {
  '../src/index.js': 'portcullis',
  '../src/pay/index.js': 'portcullis/pay',
  '../src/store/index.js': 'portcullis/store',
  '../src/shared-state/index.js': 'portcullis/shared-state',
  '../src/net/index.js': 'portcullis/net',
  '../src/fs/index.js': 'portcullis/fs',
  '../src/postgres/index.js': 'portcullis/postgres',
};

function asPublished(source: string): string {
  return source.replace(/from '([^']+)'/g, (whole, specifier: string) => {
    const entry = ENTRY_POINTS[specifier];
    return entry === undefined ? whole : `from '${entry}'`;
  });
}

/** Every marked block of the README: the file it copies and its text. */
function markedBlocks(readme: string): { file: string; text: string }[] {
  const blocks: { file: string; text: string }[] = [];
  for (const match of readme.matchAll(/<!-- snippet: (\S+) -->\n```[a-z]*\n([\s\S]*?)^```$/gm)) blocks.push({ file: match[1] ?? '', text: match[2] ?? '' });
  return blocks;
}

describe('README snippets', () => {
  const readme = readFileSync('README.md', 'utf8');
  const blocks = markedBlocks(readme);

  it('has exactly one marked block for each snippet file, and no marked block of an unknown file', () => {
    for (const file of SNIPPETS) expect(blocks.filter((b) => b.file === file), file).toHaveLength(1);
    expect(blocks.map((b) => b.file).filter((file) => !SNIPPETS.includes(file))).toEqual([]);
  });

  for (const file of SNIPPETS) {
    it(`the block marked ${file} is that file, with the package's import paths`, () => {
      const source = readFileSync(file, 'utf8');
      const imports = [...source.matchAll(/from '(\.[^']+)'/g)].map((m) => m[1] ?? '');
      // A relative import the README could not show would make the block differ silently.
      expect(imports.filter((specifier) => ENTRY_POINTS[specifier] === undefined)).toEqual([]);
      expect(blocks.find((b) => b.file === file)?.text).toBe(asPublished(source));
    });
  }

  it('notices a difference (the check can fail)', () => {
    const source = readFileSync('examples/fleet.ts', 'utf8');
    const altered = readme.replace('owner: \'team-a\'', 'owner: \'team-b\'');
    expect(altered).not.toBe(readme);
    expect(markedBlocks(altered).find((b) => b.file === 'examples/fleet.ts')?.text).not.toBe(asPublished(source));
  });
});
