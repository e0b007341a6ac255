import pg from 'pg';
import { GatewayError } from '../errors.js';
import { writeEnvelope, type EnvelopeWriter } from './envelope.js';
import { envelopeBytes, jsonBytes, withBytes } from './result-bytes.js';
import { guardSocket, type SocketWatch } from './socket-guard.js';

/** A column of a result. */
export interface Column {
  name: string;
  /** The PostgreSQL type name (`int4`, `text`, …), or `oid:N` for one not known here. */
  type: string;
}

/** What `db.query` returns. */
export interface QueryResult {
  columns: Column[];
  rows: Record<string, unknown>[];
  rowCount: number;
  /**
   * True when `maxRows` or `maxBytes` stopped the reading before the last row: `rows` are the
   * first ones, and the whole result, as JSON, stays within `maxBytes`.
   */
  truncated: boolean;
}

/** Everything one envelope sends. */
export interface QueryPlan {
  /** Statements run before the query inside the same transaction (BEGIN READ ONLY, SET LOCAL …). */
  setup: readonly string[];
  /** Statements run after the ROLLBACK, in the same round trip (session clean-up). */
  teardown?: readonly string[] | undefined;
  sql: string;
  values: readonly unknown[];
  maxRows: number;
  /** The result, as JSON (UTF-8), stays within this many bytes. */
  maxBytes: number;
  /**
   * Called once when `maxBytes` is passed: the server is still sending rows, so the caller
   * cancels the backend (and then discards the connection).
   */
  onOverflow(): void;
}

/**
 * Bytes received that are not yet part of a whole row (or row description) past which the
 * connection is cut: pg buffers a message until it is whole, so this bounds what one row can
 * cost the host before it is refused.
 */
export const SOCKET_SLACK_BYTES = 64 * 1024;

const TYPE_NAMES: Readonly<Record<number, string>> = {
  16: 'bool', 17: 'bytea', 18: 'char', 19: 'name', 20: 'int8', 21: 'int2', 23: 'int4', 25: 'text', 26: 'oid', 114: 'json',
  700: 'float4', 701: 'float8', 869: 'inet', 1000: 'bool[]', 1005: 'int2[]', 1007: 'int4[]', 1009: 'text[]', 1016: 'int8[]',
  1042: 'bpchar', 1043: 'varchar', 1082: 'date', 1083: 'time', 1114: 'timestamp', 1184: 'timestamptz', 1186: 'interval',
  1231: 'numeric[]', 1700: 'numeric', 2950: 'uuid', 3802: 'jsonb',
};
/** The PostgreSQL type name of an OID, or `oid:N` for one not known here. */
export function typeName(oid: number): string {
  return TYPE_NAMES[oid] ?? `oid:${oid}`;
}

// bytea is returned in PostgreSQL's own text form (\x…) rather than as a Buffer, which would
// serialise to JSON as an array of numbers.
const keepText = (value: string): string => value;

interface Field {
  name: string;
  dataTypeID: number;
}
interface Message {
  /** The message's length on the wire, less its type byte. */
  length?: number;
  fields?: (string | null)[] | Field[];
}
type Connection = EnvelopeWriter & {
  stream: { cork?: () => void; uncork?: () => void; once(event: 'close', listener: () => void): void; off(event: 'close', listener: () => void): void };
  once(event: 'readyForQuery', listener: () => void): void;
};

/**
 * One read-only exchange in one round trip, over the extended protocol: the setup statements,
 * the query bound to a portal, described and executed for at most `maxRows + 1` rows (so the
 * server itself stops at the row limit), the portal closed, ROLLBACK, the teardown, Sync, all in
 * one write. The server parses the query as one statement, so even a parser mistake upstream
 * could not smuggle a second one in.
 *
 * Sizes: each row is counted in its JSON form, and the rows that fit in `maxBytes` (with the
 * rest of the result) are returned with `truncated: true`; a first row that does not fit alone
 * is refused with `RESPONSE_TOO_LARGE`. Either way `onOverflow` lets the caller cancel the rest on
 * the server. Bytes are also counted at the socket, before pg's parser: once more than
 * `maxBytes` + {@link SOCKET_SLACK_BYTES} have arrived that are not yet a whole row, the socket is
 * destroyed, so no row is ever assembled in memory past that size (see {@link guardSocket}).
 *
 * A `pg` Submittable: `client.query(new ReadOnlyQuery(plan))`.
 */
export class ReadOnlyQuery {
  readonly result: Promise<QueryResult>;
  /** Settles when the server is ready again (after the ROLLBACK, or after an error's Sync), or the connection is gone. */
  readonly done: Promise<void>;
  /** True when the server reported an error: the transaction is aborted and must be rolled back. */
  failed = false;
  /** True when the connection was cut (by the size guard, or lost): it must not be reused. */
  connectionLost = false;

  readonly #plan: QueryPlan;
  #con: Connection | undefined;
  #slot: { watch: SocketWatch | undefined } | undefined;
  #setupLeft: number;
  #columns: Column[] = [];
  #names: string[] = [];
  #parsers: ((value: string) => unknown)[] = [];
  #rows: Record<string, unknown>[] = [];
  /** Bytes of the result as JSON so far: the envelope (columns, rowCount, truncated) and the rows. */
  #jsonBytes = 0;
  /** Bytes of the rows kept, as JSON, with the commas between them. */
  #rowBytes = 0;
  /** Bytes received at the socket since submit(), and those of them that made whole rows. */
  #socketBytes = 0;
  #accountedBytes = 0;
  #truncated = false;
  #finished = false;
  #overflowed = false;
  #settled = false;
  #resolve!: (result: QueryResult) => void;
  #reject!: (error: Error) => void;
  #ready!: () => void;

  constructor(plan: QueryPlan) {
    this.#plan = plan;
    this.#setupLeft = plan.setup.length;
    this.result = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.done = new Promise((resolve) => (this.#ready = resolve));
    // The caller may stop listening (abort); the outcome is still observed here.
    this.result.catch(() => undefined);
  }

  readonly #watch: SocketWatch = {
    onBytes: (count) => {
      this.#socketBytes += count;
      if (this.#socketBytes - this.#accountedBytes <= this.#plan.maxBytes + SOCKET_SLACK_BYTES) return true;
      this.connectionLost = true;
      this.#tooLarge();
      return false;
    },
  };

  readonly #onClose = (): void => {
    this.connectionLost = true;
    if (!this.#finished) {
      this.#finished = true;
      this.#reject(new Error('the connection to PostgreSQL was lost'));
    }
    this.#settle();
  };

  submit(connection: unknown): void {
    const con = connection as Connection;
    this.#con = con;
    this.#slot = guardSocket(con.stream);
    this.#slot.watch = this.#watch;
    con.stream.once('close', this.#onClose);
    con.stream.cork?.();
    writeEnvelope(con, this.#plan);
    process.nextTick(() => con.stream.uncork?.());
  }

  handleRowDescription(msg: Message): void {
    this.#accountedBytes += (msg.length ?? 0) + 1;
    const fields = (msg.fields ?? []) as Field[];
    const seen = new Map<string, number>();
    this.#names = fields.map((field) => {
      const count = (seen.get(field.name) ?? 0) + 1;
      seen.set(field.name, count);
      return count === 1 ? field.name : `${field.name}_${count}`;
    });
    this.#columns = fields.map((field, i) => ({ name: this.#names[i] ?? field.name, type: typeName(field.dataTypeID) }));
    this.#parsers = fields.map((field) => (field.dataTypeID === 17 ? keepText : (pg.types.getTypeParser(field.dataTypeID, 'text') as (value: string) => unknown)));
    // The result without rows, at its longest (rowCount at maxRows, truncated: false).
    this.#jsonBytes = envelopeBytes(this.#columns, this.#plan.maxRows, false);
  }

  handleDataRow(msg: Message): void {
    this.#accountedBytes += (msg.length ?? 0) + 1;
    if (this.#setupLeft > 0 || this.#finished) return;
    if (this.#rows.length >= this.#plan.maxRows) {
      this.#truncated = true; // the extra row asked for only says that there are more
      return;
    }
    const values = (msg.fields ?? []) as (string | null)[];
    const row: Record<string, unknown> = {};
    for (let i = 0; i < values.length; i++) {
      const text = values[i] ?? null;
      row[this.#names[i] ?? String(i)] = text === null ? null : (this.#parsers[i] ?? keepText)(text);
    }
    // Each row after the first adds a comma.
    const bytes = jsonBytes(row) + (this.#rows.length === 0 ? 0 : 1);
    if (this.#jsonBytes + bytes > this.#plan.maxBytes) {
      this.#tooLarge();
      return;
    }
    this.#jsonBytes += bytes;
    this.#rowBytes += bytes;
    this.#rows.push(row);
  }

  /** The next row does not fit: hand over the rows that do, or refuse when there are none. */
  #tooLarge(): void {
    if (!this.#finished) {
      this.#finished = true;
      if (this.#rows.length > 0) {
        this.#truncated = true;
        this.#resolve(this.#outcome());
      } else {
        const { maxBytes } = this.#plan;
        this.#reject(
          new GatewayError('RESPONSE_TOO_LARGE', `A single row of the result is larger than the limit of ${maxBytes} bytes; nothing was returned.`, {
            data: { maxBytes },
          }),
        );
      }
    }
    if (!this.#overflowed) {
      this.#overflowed = true;
      this.#plan.onOverflow();
    }
  }

  handleCommandComplete(): void {
    if (this.#setupLeft > 0) this.#setupLeft -= 1;
    else this.#finish(); // the query's (later ones are the portal close, ROLLBACK, teardown: already finished)
  }

  handlePortalSuspended(): void {
    this.#finish(); // maxRows + 1 reached: there were more rows
  }

  /** The result, with its exact size as JSON recorded (see resultBytes): never serialised again to be measured. */
  #outcome(): QueryResult {
    const rowCount = this.#rows.length;
    const result = { columns: this.#columns, rows: this.#rows, rowCount, truncated: this.#truncated };
    return withBytes(result, envelopeBytes(this.#columns, rowCount, this.#truncated) + this.#rowBytes);
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#resolve(this.#outcome());
  }

  #settle(): void {
    if (this.#settled) return;
    this.#settled = true;
    if (this.#slot?.watch === this.#watch) this.#slot.watch = undefined;
    this.#con?.stream.off('close', this.#onClose);
    this.#ready();
  }

  handleEmptyQuery(): void {
    this.handleError(new Error('empty query'));
  }

  handleError(error: Error): void {
    this.failed = true;
    if (!this.#finished) {
      this.#finished = true;
      this.#reject(error);
    }
    // After an error the server skips everything up to the Sync, which closes every exchange.
    // pg has dropped this query as its active one, so the ReadyForQuery that follows is watched
    // for on the connection (or the connection's close, when the error is that it is gone).
    this.#con?.once('readyForQuery', () => this.#settle());
  }

  handleReadyForQuery(): void {
    if (!this.#finished) {
      this.#finished = true;
      this.#reject(new Error('the server ended the exchange without a result'));
    }
    this.#settle();
  }

  handleCopyInResponse(): void {
    this.handleError(new Error('COPY is not allowed'));
  }

  handleCopyData(): void {
    // never expected; COPY is refused above
  }
}
