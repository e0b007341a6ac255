import { describe, expect, it } from 'vitest';
import { ResultReader } from './result-reader.js';

// Backend messages, built by hand as PostgreSQL sends them.
const enc = new TextEncoder();
function message(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = type.charCodeAt(0);
  new DataView(out.buffer).setInt32(1, body.length + 4);
  out.set(body, 5);
  return out;
}
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const cstring = (text: string): Uint8Array => concat([enc.encode(text), new Uint8Array([0])]);
function rowDescription(columns: [string, number][]): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([0, columns.length])];
  for (const [name, oid] of columns) {
    const meta = new Uint8Array(18);
    new DataView(meta.buffer).setUint32(6, oid);
    parts.push(cstring(name), meta);
  }
  return message('T', concat(parts));
}
function dataRow(values: (string | null)[]): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array([0, values.length])];
  for (const value of values) {
    const length = new Uint8Array(4);
    const bytes = value === null ? new Uint8Array(0) : enc.encode(value);
    new DataView(length.buffer).setInt32(0, value === null ? -1 : bytes.length);
    parts.push(length, bytes);
  }
  return message('D', concat(parts));
}
const complete = (tag: string): Uint8Array => message('C', cstring(tag));
const ready = (status: string): Uint8Array => message('Z', enc.encode(status));
const error = (code: string, text: string): Uint8Array => message('E', concat([enc.encode('SERROR\0C'), cstring(code), enc.encode('M'), cstring(text), new Uint8Array([0])]));

/** Setup (BEGIN, one SELECT with its own row), the query, ROLLBACK, ReadyForQuery. */
function exchange(rows: Uint8Array[], end = complete('SELECT 3')): Uint8Array {
  return concat([
    complete('BEGIN'),
    dataRow(['setting']),
    complete('SELECT 1'),
    rowDescription([['id', 23], ['name', 25], ['name', 25], ['raw', 17]]),
    ...rows,
    end,
    complete('ROLLBACK'),
    ready('I'),
  ]);
}

function read(bytes: Uint8Array, chunk: number, maxRows = 10, maxBytes = 1_000_000): ResultReader {
  const reader = new ResultReader({ setupCount: 2, maxRows, maxBytes });
  for (let at = 0; at < bytes.length; at += chunk) reader.push(bytes.slice(at, at + chunk));
  return reader;
}

describe('ResultReader', () => {
  const three = exchange([dataRow(['1', 'a', 'b', '\\x00ff']), dataRow(['2', null, 'é', null]), dataRow(['3', 'c', 'd', null])]);

  it('reads the query rows (not the setup row) whatever the chunk boundaries', () => {
    for (const chunk of [1, 2, 3, 5, 7, 64, three.length]) {
      const reader = read(three, chunk);
      expect(reader.status).toBe('I');
      expect(reader.error).toBeUndefined();
      expect(reader.result()).toEqual({
        columns: [{ name: 'id', type: 'int4' }, { name: 'name', type: 'text' }, { name: 'name_2', type: 'text' }, { name: 'raw', type: 'bytea' }],
        rows: [{ id: 1, name: 'a', name_2: 'b', raw: '\\x00ff' }, { id: 2, name: null, name_2: 'é', raw: null }, { id: 3, name: 'c', name_2: 'd', raw: null }],
        rowCount: 3,
        truncated: false,
      });
    }
  });

  it('keeps maxRows and reports the extra row as truncation', () => {
    expect(read(three, 4, 2).result()).toMatchObject({ rowCount: 2, truncated: true });
    const suspended = exchange([dataRow(['1', 'a', 'b', null]), dataRow(['2', 'a', 'b', null])], message('s', new Uint8Array(0)));
    expect(read(suspended, 3, 1).result()).toMatchObject({ rowCount: 1, truncated: true });
  });

  it('keeps rows within maxBytes counted as JSON, and no row after the first that does not fit', () => {
    const one = Buffer.byteLength(JSON.stringify({ id: 1, name: 'a', name_2: 'b', raw: '\\x00ff' })) + 1;
    const reader = read(three, 6, 10, 2 + one);
    expect(reader.result()).toMatchObject({ rowCount: 1, truncated: true });
    expect(read(three, 6, 10, 2 + one - 1).result()).toMatchObject({ rowCount: 0, truncated: true });
  });

  it('skips a row too large to fit without buffering it, and still sees the end of the exchange', () => {
    const big = dataRow(['1', 'x'.repeat(500_000), 'y', null]);
    const reader = new ResultReader({ setupCount: 2, maxRows: 10, maxBytes: 1000 });
    const bytes = exchange([big, dataRow(['2', 'a', 'b', null])]);
    // The declared length alone decides: the body is counted down, never copied.
    for (let at = 0; at < bytes.length; at += 4096) reader.push(bytes.subarray(at, at + 4096));
    expect(reader.result()).toMatchObject({ rows: [], truncated: true });
    expect(reader.status).toBe('I');
  });

  it('reports the first error with its SQLSTATE and the failed transaction status', () => {
    const failed = concat([complete('BEGIN'), dataRow(['s']), complete('SELECT 1'), error('42703', 'column "nope" does not exist'), ready('E')]);
    const reader = read(failed, 3);
    expect(reader.error).toEqual({ code: '42703', message: 'column "nope" does not exist' });
    expect(reader.status).toBe('E');
    expect(read(concat([complete('BEGIN'), complete('SELECT 1'), message('I', new Uint8Array(0)), ready('E')]), 2).error).toMatchObject({ message: 'empty query' });
  });

  it('gives every garbage input a verdict without throwing', () => {
    for (const bytes of [new Uint8Array([0x44, 0xff, 0xff, 0xff, 0xff]), new Uint8Array([0x54, 0, 0, 0, 4]), enc.encode('Zgarbage')]) {
      const reader = new ResultReader({ setupCount: 0, maxRows: 1, maxBytes: 100 });
      expect(() => reader.push(bytes)).not.toThrow();
    }
  });
});
