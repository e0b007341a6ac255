import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

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

/** Lower-case hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** Lower-case hex SHA-256 of the canonical JSON of `value`: the audit's `args_sha256`. */
export function hashArgs(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
