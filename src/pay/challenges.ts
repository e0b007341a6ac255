/** One challenge of a `WWW-Authenticate` field (RFC 9110 §11.6.1). */
export interface Challenge {
  /** The scheme, lower-cased (`l402`, `lsat`, `payment`, …). */
  scheme: string;
  /** Parameters with lower-cased names; values unquoted and unescaped. */
  params: Readonly<Record<string, string>>;
  /** A token68 instead of parameters, when the challenge has one. */
  token68?: string;
  /** Set when the challenge is malformed (such as a repeated parameter): never act on it. */
  invalid?: string;
}

const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;
/** An unquoted parameter value: a token, or token68-like text (base64 with `/`, `+` and `=` padding) as real servers send. */
const BARE_VALUE_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z\-/=]/;

/**
 * Parses one or more `WWW-Authenticate` header lines into challenges: several challenges per
 * line and several lines, case-insensitive scheme and parameter names, quoted strings with
 * escapes, token68 values, whole-name matching. A challenge with a repeated parameter, or
 * that cannot be parsed to its end, is returned with `invalid` set rather than guessed at.
 *
 * @example
 * ```ts
 * parseChallenges('Basic realm="x", L402 macaroon="AgE…", invoice="lnbc…"');
 * // [{ scheme: 'basic', params: { realm: 'x' } }, { scheme: 'l402', params: { macaroon: 'AgE…', invoice: 'lnbc…' } }]
 * ```
 */
export function parseChallenges(header: string | readonly string[] | null | undefined): Challenge[] {
  if (header === null || header === undefined) return [];
  const lines = typeof header === 'string' ? [header] : header;
  const challenges: Challenge[] = [];
  for (const line of lines) {
    if (line.length > 65_536) {
      challenges.push({ scheme: '', params: {}, invalid: 'header too long' });
      continue;
    }
    challenges.push(...parseLine(line));
  }
  return challenges;
}

function parseLine(text: string): Challenge[] {
  let i = 0;
  const out: Challenge[] = [];
  const skipSpace = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < text.length && TCHAR.test(text[i] ?? '')) i++;
    return text.slice(start, i);
  };
  const readQuoted = (): string | undefined => {
    // The caller has seen the opening quote.
    i++;
    let value = '';
    while (i < text.length) {
      const c = text[i] ?? '';
      if (c === '"') {
        i++;
        return value;
      }
      if (c === '\\') {
        i++;
        if (i >= text.length) return undefined;
      }
      value += text[i] ?? '';
      i++;
    }
    return undefined; // unterminated
  };
  /** True when a `name =` follows at `i` (a parameter, not a new challenge). */
  const paramAhead = (): boolean => {
    const save = i;
    const name = readToken();
    skipSpace();
    const isParam = name.length > 0 && text[i] === '=';
    i = save;
    return isParam;
  };
  /** Skips to the next comma at the top level (for recovery after a malformed challenge). */
  const skipToComma = (): void => {
    while (i < text.length && text[i] !== ',') {
      if (text[i] === '"') readQuoted();
      else i++;
    }
  };

  for (;;) {
    // Empty list elements (", ,") are allowed.
    skipSpace();
    while (text[i] === ',') {
      i++;
      skipSpace();
    }
    if (i >= text.length) break;
    const scheme = readToken().toLowerCase();
    if (scheme.length === 0) {
      out.push({ scheme: '', params: {}, invalid: 'a challenge does not start with a scheme' });
      skipToComma();
      continue;
    }
    const challenge: { scheme: string; params: Record<string, string>; token68?: string; invalid?: string } = { scheme, params: {} };
    out.push(challenge);
    skipSpace();
    if (i >= text.length || text[i] === ',') {
      if (text[i] === ',') i++;
      continue;
    }
    // token68: base64-ish characters, then "=" padding, then the end or a comma.
    if (!paramAhead() || /^[A-Za-z0-9\-._~+/]+=+\s*(,|$)/.test(text.slice(i))) {
      const start = i;
      while (i < text.length && TOKEN68_CHAR.test(text[i] ?? '')) i++;
      while (text[i] === '=') i++;
      const token = text.slice(start, i);
      skipSpace();
      if (token.length === 0 || (i < text.length && text[i] !== ',')) {
        challenge.invalid = 'malformed token68 or parameter';
        skipToComma();
      } else {
        challenge.token68 = token;
      }
      if (text[i] === ',') i++;
      continue;
    }
    // auth-params: name BWS "=" BWS (token / quoted-string), separated by commas.
    for (;;) {
      const name = readToken().toLowerCase();
      skipSpace();
      if (text[i] !== '=') {
        challenge.invalid = 'a parameter has no value';
        skipToComma();
        break;
      }
      i++;
      skipSpace();
      let value: string | undefined;
      if (text[i] === '"') value = readQuoted();
      else {
        // Up to the next comma (or white space, which must then be followed by one).
        const start = i;
        while (i < text.length && BARE_VALUE_CHAR.test(text[i] ?? '')) i++;
        value = text.slice(start, i);
        if (value.length === 0) value = undefined;
      }
      if (value === undefined) {
        challenge.invalid = `parameter "${name}" has a malformed value`;
        skipToComma();
        break;
      }
      if (Object.hasOwn(challenge.params, name)) challenge.invalid = `parameter "${name}" is repeated`;
      else challenge.params[name] = value;
      skipSpace();
      if (i >= text.length) break;
      if (text[i] !== ',') {
        challenge.invalid = 'parameters are not separated by commas';
        skipToComma();
        break;
      }
      // After a comma: another parameter of this challenge, or the next challenge.
      i++;
      skipSpace();
      while (text[i] === ',') {
        i++;
        skipSpace();
      }
      if (i >= text.length || !paramAhead()) break;
    }
  }
  return out;
}
