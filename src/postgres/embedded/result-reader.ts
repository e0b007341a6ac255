import pg from 'pg';
import { typeName, type Column, type QueryResult } from '../read-only-query.js';
import { envelopeBytes, jsonBytes } from '../result-bytes.js';
import type { WorkerError } from './protocol.js';

/** Messages other than rows are small (a row description, an error); larger ones are skipped. */
const MAX_OTHER_MESSAGE_BYTES = 1024 * 1024;
const decoder = new TextDecoder();
const keepText = (value: string): string => value;

/**
 * Reads the backend's answer to one envelope as it streams out of PGlite, message by message,
 * and keeps only what the result may hold: rows of the query (not of the setup statements) up
 * to `maxRows`, and up to `maxBytes` counted in their JSON form. A row whose message is larger
 * than any row that could fit is never buffered: its bytes are counted and dropped as they
 * arrive, so a huge value costs the worker no copy.
 */
export class ResultReader {
  /** The transaction status of the last ReadyForQuery (`I` idle, `T` in a transaction, `E` failed). */
  status = '';
  error: WorkerError | undefined;

  readonly #maxRows: number;
  readonly #maxBytes: number;
  readonly #maxRowMessage: number;
  #setupLeft: number;
  #columns: Column[] = [];
  #names: string[] = [];
  #parsers: ((value: string) => unknown)[] = [];
  #rows: Record<string, unknown>[] = [];
  #bytes = 2; // the brackets of the JSON array
  /** The rows' JSON, with the commas between them. */
  #rowBytes = 0;
  #truncated = false;
  #queryDone = false;
  // Framing: the 5-byte header, then the body (kept, or skipped when too large to keep).
  #header = new Uint8Array(5);
  #headerFill = 0;
  #type = 0;
  #body: Uint8Array | undefined;
  #bodyFill = 0;
  #skipLeft = 0;

  constructor(options: { setupCount: number; maxRows: number; maxBytes: number }) {
    this.#setupLeft = options.setupCount;
    this.#maxRows = options.maxRows;
    this.#maxBytes = options.maxBytes;
    // JSON is never much shorter than the wire form (jsonb's ", " becomes ","): a row message
    // over twice the limit cannot fit.
    this.#maxRowMessage = 2 * options.maxBytes + 65_536;
  }

  result(): QueryResult {
    return { columns: this.#columns, rows: this.#rows, rowCount: this.#rows.length, truncated: this.#truncated };
  }

  /** The exact UTF-8 length of {@link result} as JSON (counted as the rows came, never serialised again). */
  resultBytes(): number {
    return envelopeBytes(this.#columns, this.#rows.length, this.#truncated) + this.#rowBytes;
  }

  /** Takes the next chunk of backend output (a view PGlite reuses: what is kept is copied). */
  push(chunk: Uint8Array): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#skipLeft > 0) {
        const n = Math.min(this.#skipLeft, chunk.length - at);
        this.#skipLeft -= n;
        at += n;
        continue;
      }
      if (this.#body !== undefined) {
        const n = Math.min(this.#body.length - this.#bodyFill, chunk.length - at);
        this.#body.set(chunk.subarray(at, at + n), this.#bodyFill);
        this.#bodyFill += n;
        at += n;
        if (this.#bodyFill === this.#body.length) {
          const body = this.#body;
          this.#body = undefined;
          this.#message(this.#type, body);
        }
        continue;
      }
      this.#header[this.#headerFill++] = chunk[at++] ?? 0;
      if (this.#headerFill < 5) continue;
      this.#headerFill = 0;
      this.#type = this.#header[0] ?? 0;
      const length = new DataView(this.#header.buffer).getInt32(1) - 4;
      this.#begin(this.#type, Math.max(0, length));
    }
  }

  #begin(type: number, length: number): void {
    const isRow = type === 0x44; // 'D'
    if (length > (isRow ? this.#maxRowMessage : MAX_OTHER_MESSAGE_BYTES)) {
      this.#skipLeft = length;
      if (isRow && this.#inQuery()) this.#stop();
      else if (type === 0x45) this.error = { message: 'the query failed (error message too long)' }; // 'E'
      return;
    }
    if (length === 0) {
      this.#message(type, new Uint8Array(0));
      return;
    }
    this.#body = new Uint8Array(length);
    this.#bodyFill = 0;
  }

  #inQuery(): boolean {
    return this.#setupLeft === 0 && !this.#queryDone;
  }

  #stop(): void {
    this.#truncated = true;
    this.#queryDone = true;
  }

  #message(type: number, body: Uint8Array): void {
    // Called from inside PGlite's output callback: nothing may throw out of here.
    try {
      this.#dispatch(type, body);
    } catch {
      this.error ??= { message: 'the embedded database sent a malformed message' };
    }
  }

  #dispatch(type: number, body: Uint8Array): void {
    switch (String.fromCharCode(type)) {
      case 'T':
        if (this.#setupLeft === 0) this.#describe(body);
        break;
      case 'D':
        if (this.#inQuery()) this.#row(body);
        break;
      case 'C':
        if (this.#setupLeft > 0) this.#setupLeft -= 1;
        else this.#queryDone = true; // the query's; later ones are the ROLLBACK's
        break;
      case 's': // PortalSuspended: maxRows + 1 reached, there were more rows
        this.#queryDone = true;
        break;
      case 'E':
        this.error ??= readError(body);
        break;
      case 'I': // EmptyQueryResponse
        this.error ??= { message: 'empty query' };
        break;
      case 'G': // CopyInResponse (the validator refuses COPY; this is the backstop)
        this.error ??= { message: 'COPY is not allowed' };
        break;
      case 'Z':
        this.status = String.fromCharCode(body[0] ?? 0);
        break;
      default: // ParseComplete, BindComplete, CloseComplete, NoData, notices: nothing to keep
    }
  }

  #describe(body: Uint8Array): void {
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const count = view.getInt16(0);
    let at = 2;
    const seen = new Map<string, number>();
    this.#columns = [];
    this.#names = [];
    this.#parsers = [];
    for (let i = 0; i < count; i++) {
      const end = body.indexOf(0, at);
      const name = decoder.decode(body.subarray(at, end));
      at = end + 1;
      const oid = view.getUint32(at + 6);
      at += 18;
      const seenCount = (seen.get(name) ?? 0) + 1;
      seen.set(name, seenCount);
      const unique = seenCount === 1 ? name : `${name}_${seenCount}`;
      this.#names.push(unique);
      this.#columns.push({ name: unique, type: typeName(oid) });
      // bytea stays in PostgreSQL's text form (\x…), as on a server; other types as pg parses them.
      this.#parsers.push(oid === 17 ? keepText : (pg.types.getTypeParser(oid, 'text') as (value: string) => unknown));
    }
  }

  #row(body: Uint8Array): void {
    if (this.#rows.length >= this.#maxRows) {
      this.#stop(); // the extra row asked for only says that there are more
      return;
    }
    const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
    const count = view.getInt16(0);
    let at = 2;
    const row: Record<string, unknown> = {};
    for (let i = 0; i < count; i++) {
      const length = view.getInt32(at);
      at += 4;
      const key = this.#names[i] ?? String(i);
      if (length < 0) {
        row[key] = null;
        continue;
      }
      const text = decoder.decode(body.subarray(at, at + length));
      at += length;
      row[key] = (this.#parsers[i] ?? keepText)(text);
    }
    const bytes = jsonBytes(row) + 1; // and its comma
    if (this.#bytes + bytes > this.#maxBytes) {
      this.#stop();
      return;
    }
    this.#bytes += bytes;
    this.#rowBytes += this.#rows.length === 0 ? bytes - 1 : bytes;
    this.#rows.push(row);
  }
}

function readError(body: Uint8Array): WorkerError {
  const error: WorkerError = { message: 'the query failed' };
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const field = String.fromCharCode(body[at] ?? 0);
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    const value = decoder.decode(body.subarray(at + 1, end));
    if (field === 'C') error.code = value;
    else if (field === 'M') error.message = value;
    at = end + 1;
  }
  return error;
}
