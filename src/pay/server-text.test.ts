import { describe, expect, it } from 'vitest';
import { formatSats, safeServerText } from './server-text.js';

describe('safeServerText', () => {
  it('escapes C0, C1, DEL, bidi controls, marks and line separators, and keeps ordinary text and emoji', () => {
    expect(safeServerText('a\u0000b\nc\u001b[0m\u0085\u009b\u007f')).toBe('a\\u{0}b\\u{a}c\\u{1b}[0m\\u{85}\\u{9b}\\u{7f}');
    expect(safeServerText('\u202a\u202e\u2066\u2069\u200f\u2028\u2029')).toBe('\\u{202a}\\u{202e}\\u{2066}\\u{2069}\\u{200f}\\u{2028}\\u{2029}');
    expect(safeServerText('Wetter für 🌧 — ok')).toBe('Wetter für 🌧 — ok');
  });

  it('cuts at the cap in characters, never inside a surrogate pair', () => {
    expect(safeServerText('🌧'.repeat(5), 3)).toBe('🌧🌧🌧… (2 more characters)');
    expect(safeServerText('x'.repeat(200))).toBe('x'.repeat(200));
  });
});

describe('formatSats', () => {
  it('says sats, and msat only for a fraction', () => {
    expect(formatSats(21_000)).toBe('21 sats');
    expect(formatSats(2_500_000_000)).toBe('2,500,000 sats');
    expect(formatSats(21_500)).toBe('21.5 sats (21500 msat)');
  });
});
