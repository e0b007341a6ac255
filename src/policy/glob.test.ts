import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compileGlob, compileGlobList } from './glob.js';

describe('tool globs', () => {
  it('matches exact names only when there is no wildcard', () => {
    const glob = compileGlob('fs.readFile');
    expect(glob.test('fs.readFile')).toBe(true);
    expect(glob.test('fs.readFileX')).toBe(false);
    expect(glob.test('fsXreadFile')).toBe(false);
  });

  it('treats "*" as any run of characters, dots included', () => {
    const glob = compileGlob('fs.*');
    expect(glob.test('fs.readFile')).toBe(true);
    expect(glob.test('fs.a.b')).toBe(true);
    expect(glob.test('fs.')).toBe(true);
    expect(glob.test('fsx.readFile')).toBe(false);
    expect(compileGlob('*').test('anything.at.all')).toBe(true);
  });

  it('treats "?" as one character and everything else literally', () => {
    expect(compileGlob('db.quer?').test('db.query')).toBe(true);
    expect(compileGlob('db.quer?').test('db.quer')).toBe(false);
    expect(compileGlob('a.b*').test('aXb')).toBe(false);
  });

  it('reports the first matching pattern of a list', () => {
    const list = compileGlobList(['http.*', 'fs.*']);
    expect(list.match('fs.stat')).toBe('fs.*');
    expect(list.match('db.query')).toBeUndefined();
  });

  it('matches as the anchored regular expression it replaced, on any pattern and value', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '?', '\n', '\\'), maxLength: 8 });
    fc.assert(
      fc.property(text, fc.string({ unit: fc.constantFrom('a', 'b', '.', '*', '?', '\n'), maxLength: 12 }), (pattern, value) => {
        const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\/]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`, 's');
        expect(compileGlob(pattern).test(value)).toBe(regex.test(value));
      }),
      { numRuns: 2000 },
    );
  });
});
