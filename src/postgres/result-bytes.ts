// The size of a result as the envelope counted it, kept beside the result (not on it: the
// result's own fields are what the agent sees), so that the gateway need not serialise a large
// result again only to learn its size.

/** UTF-8 bytes of `value` as JSON; Infinity for a value that is not JSON (it cannot be returned). */
export function jsonBytes(value: unknown): number {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    return Number.POSITIVE_INFINITY; // not JSON (a bigint from a host's own type parser): it cannot be returned
  }
  return text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
}

const counted = new WeakMap<object, number>();

/** Records `bytes` as the UTF-8 length of `result` as JSON (an exact count or an upper bound). */
export function withBytes<T extends object>(result: T, bytes: number): T {
  counted.set(result, bytes);
  return result;
}

/**
 * The size recorded by {@link withBytes}, or else the JSON length measured now. Never below the
 * UTF-8 length of `JSON.stringify(result)`: the gateway checks it against `maxBytes`.
 */
export function resultBytes(result: unknown): number {
  if (typeof result === 'object' && result !== null) {
    const bytes = counted.get(result);
    if (bytes !== undefined) return bytes;
  }
  return jsonBytes(result);
}

/**
 * The JSON size of a result without its rows, at `rowCount` and `truncated`: the rows' JSON
 * (each row's length, plus a comma between two rows) goes inside its `[]`.
 */
export function envelopeBytes(columns: readonly unknown[], rowCount: number, truncated: boolean): number {
  return jsonBytes({ columns, rows: [], rowCount, truncated });
}
