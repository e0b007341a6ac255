/**
 * Server-chosen text (invoice and NUT-18 descriptions) made safe to show a person and to hand
 * to `approve()`. First the length is capped, once, on the raw text (in code points). Then every
 * character that is invisible or changes how others are shown is replaced by a visible `\u{…}`
 * escape: C0 and C1 controls, DEL, format characters (bidi overrides and isolates, directional
 * and zero-width marks, the soft hyphen, tag characters, BOMs), lone surrogates, variation
 * selectors and the Hangul fillers (blank letters); and after the first two combining marks on
 * one base character, every further mark (no stacks drawn over other lines). So an escape
 * sequence cannot move the cursor, erase the amount, reorder or hide what is shown. Escaping
 * works per code point, so it never splits anything, and text already escaped is left as it is.
 */

/** Characters always escaped. */
// eslint-disable-next-line no-misleading-character-class -- single code points are tested; the variation selectors are listed to be escaped
const UNSAFE = /^(?:[\p{Cc}\p{Cf}\p{Cs}\u2028\u2029\ufe00-\ufe0f\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}\u180e\u115f\u1160\u3164\uffa0])$/u;

/** A combining mark (nonspacing, spacing or enclosing). */
const MARK = /^\p{M}$/u;

/** Most combining marks shown on one base character; further ones are escaped. */
export const MAX_MARKS_PER_CHAR = 2;

/** Longest server text kept, in characters (before escaping). */
export const MAX_SERVER_TEXT_CHARS = 200;

/** Longest invoice or payment request shown, in characters. */
export const MAX_INVOICE_CHARS = 8192;

const escape = (c: string): string => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`;

/** Escapes what is unsafe to show (see above), code point by code point; never cuts. */
export function escapeServerText(text: string): string {
  let out = '';
  let marks = 0;
  for (const c of text) {
    if (UNSAFE.test(c)) {
      out += escape(c);
      continue; // an escaped character neither starts nor ends a run of marks
    }
    if (MARK.test(c)) {
      marks += 1;
      out += marks > MAX_MARKS_PER_CHAR ? escape(c) : c;
      continue;
    }
    marks = 0;
    out += c;
  }
  return out;
}

/** Caps `text` at `maxChars` code points (saying how many more there were), then escapes it. */
export function safeServerText(text: string, maxChars = MAX_SERVER_TEXT_CHARS): string {
  const chars = Array.from(text);
  if (chars.length <= maxChars) return escapeServerText(text);
  return `${escapeServerText(chars.slice(0, maxChars).join(''))}… (${chars.length - maxChars} more characters)`;
}

/** The note {@link safeServerText} ends a cut text with, and the escapes it writes. */
const CUT_NOTE = /… \(\d+ more characters\)$/u;
const ESCAPE = /\\u\{[0-9a-f]{1,6}\}/gu;

/**
 * {@link safeServerText} for text that may already be its output (an {@link ApprovalRequest}'s
 * description, shown again): text with nothing left to escape and no longer than `maxChars`
 * (an escape counting as one character, a cut note as none) is kept as it is, so it is never
 * cut a second time nor its count of characters left out made wrong; any other is capped and
 * escaped.
 */
export function safeShownText(text: string, maxChars = MAX_SERVER_TEXT_CHARS): string {
  if (escapeServerText(text) === text && Array.from(text.replace(CUT_NOTE, '').replace(ESCAPE, '.')).length <= maxChars) return text;
  return safeServerText(text, maxChars);
}

/** {@link safeServerText} for an optional value. */
export function safeOptionalText(text: string | undefined, maxChars = MAX_SERVER_TEXT_CHARS): string | undefined {
  return text === undefined ? undefined : safeServerText(text, maxChars);
}

/** An amount for people: whole sats as `21 sats`; a fraction of a sat as `21.5 sats (21500 msat)`. */
export function formatSats(msat: number): string {
  const sats = msat / 1000;
  const whole = Number.isInteger(sats);
  const text = `${sats.toLocaleString('en-US', { maximumFractionDigits: 3 })} sats`;
  return whole ? text : `${text} (${msat} msat)`;
}
