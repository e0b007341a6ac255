import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/**
 * Serialises a JSON value with object keys sorted by UTF-16 code units (the order of RFC 8785,
 * JCS), so that two objects with the same content always give the same bytes whatever order
 * their keys were written in. Numbers use ECMAScript's shortest round-trip form, as JCS does.
 *
 * Follows `JSON.stringify` for what is not JSON: `toJSON()` is honoured, `undefined` and
 * functions are left out of objects and become `null` in arrays, non-finite numbers become
 * `null`.
 *
 * @throws TypeError on a cycle or a `bigint`, as `JSON.stringify` does.
 */
export function canonicalJson(value: unknown): string {
  const out = write(value, new Set());
  return out ?? 'null';
}

function write(value: unknown, seen: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
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
  const obj = value as object;
  if (seen.has(obj)) throw new TypeError('canonicalJson: the value has a cycle');
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    out = `[${obj.map((item) => write(item, seen) ?? 'null').join(',')}]`;
  } else {
    const record = obj as Record<string, unknown>;
    const parts: string[] = [];
    for (const key of Object.keys(record).sort()) {
      const item = write(record[key], seen);
      if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
    }
    out = `{${parts.join(',')}}`;
  }
  seen.delete(obj);
  return out;
}

/** Lower-case hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}

/** Lower-case hex SHA-256 of the canonical JSON of `value`: the audit's `args_sha256`. */
export function hashArgs(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
