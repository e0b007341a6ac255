import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileBoundedRegex, MAX_REGEX_INPUT } from './regex.js';

describe('bounded regex', () => {
  it('matches the whole value like an anchored JavaScript regex on the supported subset', () => {
    const patterns = ['a(b|c)*d', '[a-z]+-[0-9]{2,3}', 'x?y+\\.z', '(?:foo|ba[rz])+', '[^/]*\\/v1', '\\d{3}\\s\\w+'];
    for (const source of patterns) {
      const ours = compileBoundedRegex(source);
      const theirs = new RegExp(`^(?:${source})$`);
      fc.assert(fc.property(fc.stringMatching(/^[a-z0-9./ -]{0,12}$/), (value) => {
        expect(ours.test(value)).toBe(theirs.test(value));
      }));
      expect(ours.test('abd')).toBe(theirs.test('abd'));
    }
  });

  it('stays linear on patterns that make a backtracking engine explode', () => {
    const evil = compileBoundedRegex('(a+)+b');
    const started = performance.now();
    expect(evil.test('a'.repeat(MAX_REGEX_INPUT))).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(evil.test('a'.repeat(MAX_REGEX_INPUT + 1))).toBeUndefined();
  });

  it('refuses backreferences, lookaround, lazy quantifiers and huge repeats', () => {
    for (const bad of ['(a)\\1', '(?=a)', '(?<!a)b', 'a*?', 'a{1,1000}', '(' .repeat(40) + 'a' + ')'.repeat(40), 'a^b', '\\bword']) {
      expect(() => compileBoundedRegex(bad), bad).toThrow();
    }
  });
});
