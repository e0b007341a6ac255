import { describe, expect, it } from 'vitest';
import { escapeServerText, formatSats, safeServerText, safeShownText } from './server-text.js';

describe('safeServerText', () => {
  it('escapes C0, C1, DEL, bidi controls, marks and line separators, and keeps ordinary text and emoji', () => {
    expect(safeServerText('a\u0000b\nc\u001b[0m\u0085\u009b\u007f')).toBe('a\\u{0}b\\u{a}c\\u{1b}[0m\\u{85}\\u{9b}\\u{7f}');
    expect(safeServerText('\u202a\u202e\u2066\u2069\u200f\u2028\u2029')).toBe('\\u{202a}\\u{202e}\\u{2066}\\u{2069}\\u{200f}\\u{2028}\\u{2029}');
    expect(safeServerText('Wetter für 🌧 — ok')).toBe('Wetter für 🌧 — ok');
  });

  it('escapes invisible and format characters: zero-width, soft hyphen, tags, variation selectors, fillers, lone surrogates', () => {
    const cases: [string, string][] = [
      ['\u200b', '200b'], // zero-width space (Cf)
      ['\u200c', '200c'],
      ['\u200d', '200d'],
      ['\u2060', '2060'], // word joiner
      ['\u2064', '2064'], // invisible plus
      ['\u00ad', 'ad'], // soft hyphen
      ['\u180e', '180e'], // Mongolian vowel separator
      ['\ufeff', 'feff'],
      ['\u{e0001}', 'e0001'], // language tag
      ['\u{e0049}', 'e0049'], // tag letter I
      ['\u{e007f}', 'e007f'], // cancel tag
      ['\ufe00', 'fe00'], // variation selectors
      ['\ufe0f', 'fe0f'],
      ['\u{e0100}', 'e0100'],
      ['\u{e01ef}', 'e01ef'],
      ['\u3164', '3164'], // Hangul filler
      ['\uffa0', 'ffa0'], // halfwidth Hangul filler
      ['\u115f', '115f'],
      ['\u1160', '1160'],
      ['\ud800', 'd800'], // lone surrogates
      ['\udfff', 'dfff'],
    ];
    for (const [c, hex] of cases) expect(safeServerText(`a${c}b`)).toBe(`a\\u{${hex}}b`);
    // A hidden instruction in tag characters shows as escapes, not as nothing.
    expect(safeServerText('desc\u{e0049}\u{e0047}\u{e004e}')).toBe('desc\\u{e0049}\\u{e0047}\\u{e004e}');
    // A real surrogate pair is one character, kept.
    expect(safeServerText('\ud83c\udf27')).toBe('🌧');
  });

  it('keeps at most 2 combining marks on one character and escapes the rest', () => {
    expect(safeServerText(`x${'\u0336'.repeat(5)}y`)).toBe(`x\u0336\u0336${'\\u{336}'.repeat(3)}y`);
    // Ordinary accents stay: one or two marks per letter.
    expect(safeServerText('e\u0301 \u1ec7 a\u0302\u0301')).toBe('e\u0301 \u1ec7 a\u0302\u0301');
    // The count is per base character; an escaped invisible character does not restart it.
    expect(safeServerText(`a\u0301\u0301\u200b\u0301b\u0301`)).toBe('a\u0301\u0301\\u{200b}\\u{301}b\u0301');
    // Marks with no base at all are limited too.
    expect(safeServerText('\u0301'.repeat(3))).toBe('\u0301\u0301\\u{301}');
  });

  it('cuts at the cap in characters, never inside a surrogate pair', () => {
    expect(safeServerText('🌧'.repeat(5), 3)).toBe('🌧🌧🌧… (2 more characters)');
    expect(safeServerText('x'.repeat(200))).toBe('x'.repeat(200));
  });

  it('caps on the raw text, before escaping: the count is of raw characters and no escape is cut', () => {
    const raw = '\u001b'.repeat(250);
    const once = safeServerText(raw);
    expect(once).toBe(`${'\\u{1b}'.repeat(200)}… (50 more characters)`);
    // Shown again (as renderApproval does): unchanged, not cut a second time.
    expect(safeShownText(once)).toBe(once);
    // The widest escapes at the cap too.
    const widest = safeServerText('\u{e01ef}'.repeat(300));
    expect(widest.endsWith('… (100 more characters)')).toBe(true);
    expect(safeShownText(widest)).toBe(widest);
    // Raw text is still capped and escaped when shown.
    expect(safeShownText('x'.repeat(250))).toBe(`${'x'.repeat(200)}… (50 more characters)`);
    expect(safeShownText(`\u0007${'x'.repeat(10)}`, 5)).toBe('\\u{7}xxxx… (6 more characters)');
  });

  it('is idempotent: text already made safe is left as it is', () => {
    for (const raw of ['a\u200bb\u{e0049}', `x${'\u0336'.repeat(20)}`, '\u202eevil\u0000', 'plain']) {
      const once = escapeServerText(raw);
      expect(escapeServerText(once)).toBe(once);
    }
  });
});

describe('formatSats', () => {
  it('says sats, and msat only for a fraction', () => {
    expect(formatSats(21_000)).toBe('21 sats');
    expect(formatSats(2_500_000_000)).toBe('2,500,000 sats');
    expect(formatSats(21_500)).toBe('21.5 sats (21500 msat)');
  });
});
