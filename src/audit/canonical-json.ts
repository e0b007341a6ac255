import * as crypto from 'node:crypto';

/** Nesting deeper than this is refused; it also stops a cycle, which would nest forever. */
const MAX_DEPTH = 512;

/**
 * Serialises a JSON value with object keys sorted by UTF-16 code units (the order of RFC 8785,
 * JCS), so that two objects with the same content always give the same bytes whatever order
 * their keys were written in. Numbers use ECMAScript's shortest round-trip form, as JCS does.
 *
 * Follows `JSON.stringify` for what is not JSON: `toJSON()` is honoured, `undefined` and
 * functions are left out of objects and become `null` in arrays, non-finite numbers become
 * `null`.
 *
 * @throws TypeError on a cycle, nesting deeper than 512, or a `bigint`.
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0) ?? 'null';
}

function write(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('canonicalJson: a bigint is not JSON');
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (depth >= MAX_DEPTH) throw new TypeError('canonicalJson: the value has a cycle or is nested too deeply');
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    return write((value as { toJSON: () => unknown }).toJSON(), depth + 1);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += write(value[i], depth + 1) ?? 'null';
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = write(record[key], depth + 1);
    if (item === undefined) continue;
    if (!first) out += ',';
    out += `${JSON.stringify(key)}:${item}`;
    first = false;
  }
  return `${out}}`;
}

// One-shot `crypto.hash` (Node >= 20.12) is several times faster than createHash for small inputs,
// and OpenSSL's SHA-256 about twice as fast as a pure-JS one. JSON text never holds a lone
// surrogate (JSON.stringify escapes them), so the UTF-8 bytes hashed are exactly the text's.
const oneShot = (crypto as { hash?: (algorithm: string, data: string | Uint8Array, encoding: 'hex') => string }).hash;

/** Lower-case hex SHA-256 of a string's UTF-8 bytes (or of the bytes given). */
export function sha256Hex(data: string | Uint8Array): string {
  return oneShot === undefined ? crypto.createHash('sha256').update(data).digest('hex') : oneShot('sha256', data, 'hex');
}

/** Lower-case hex SHA-256 of the canonical JSON of `value`: the audit's `args_sha256`. */
export function hashArgs(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
