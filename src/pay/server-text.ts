/**
 * Server-chosen text (invoice and NUT-18 descriptions) made safe to show a person and to hand
 * to `approve()`: C0 and C1 controls, DEL, bidi overrides and isolates, directional marks and
 * line or paragraph separators are replaced by a visible `\u{…}` escape, so an escape sequence
 * cannot move the cursor, erase the amount or reorder what is shown; then the length is capped.
 */

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff\ufff9-\ufffb]/gu;

/** Longest server text kept, in characters (before escaping). */
export const MAX_SERVER_TEXT_CHARS = 200;

/** Longest invoice or payment request shown, in characters. */
export const MAX_INVOICE_CHARS = 8192;

export function safeServerText(text: string, maxChars = MAX_SERVER_TEXT_CHARS): string {
  const chars = Array.from(text);
  const cut = chars.length > maxChars ? chars.slice(0, maxChars).join('') : text;
  const escaped = cut.replace(UNSAFE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
  return chars.length > maxChars ? `${escaped}… (${chars.length - maxChars} more characters)` : escaped;
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
