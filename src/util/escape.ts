// One way to spell out characters a reader cannot see (or that Unicode-aware tools take for a
// line break) in text from agents or servers: as the text `\uXXXX`, so the text reads as what it
// is in a terminal, a log line or an audit reason.

/** C0 and C1 controls, DEL, zero-width and bidi format characters, line and paragraph separators, BOM. */
export const INVISIBLE_CHARS = /[\p{Cc}\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/gu;

/** `c` written as the six characters `\uXXXX`. */
export const unicodeEscape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with every character `pattern` (a global regex) matches written as `\uXXXX`. */
export function spellOut(text: string, pattern: RegExp = INVISIBLE_CHARS): string {
  return text.replace(pattern, unicodeEscape);
}
