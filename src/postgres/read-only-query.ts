import { createRequire } from 'node:module';
import pg from 'pg';

// pg's own parameter preparation (dates, arrays, JSON), as for a plain parameterised query; it is
// not part of pg's typed exports.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (value: unknown) => unknown };

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
  /** True when `maxRows` or `maxBytes` stopped the reading before the last row. */
  truncated: boolean;
}

/** Everything one envelope sends. */
export interface QueryPlan {
  /** Statements run before the query inside the same transaction (BEGIN READ ONLY, SET LOCAL …). */
  setup: readonly string[];
  sql: string;
  values: readonly unknown[];
  maxRows: number;
  maxBytes: number;
  /**
   * Called once when `maxBytes` is passed: the server is still sending rows, so the caller
   * cancels the backend (and then discards the connection).
   */
  onOverflow(): void;
}

const PORTAL = 'portcullis';
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
  fields?: (string | null)[] | Field[];
}
type Connection = {
  parse(query: { text: string; name?: string }): void;
  bind(config: { portal?: string; statement?: string; values?: unknown[] }): void;
  describe(config: { type: 'P' | 'S'; name?: string }): void;
  execute(config: { portal?: string; rows?: number }): void;
  close(config: { type: 'P' | 'S'; name?: string }): void;
  flush(): void;
  sync(): void;
  stream: { cork?: () => void; uncork?: () => void };
};

/**
 * One read-only exchange in one round trip, over the extended protocol: the setup statements,
 * the query bound to a portal, described and executed for at most `maxRows + 1` rows (so the
 * server itself stops at the row limit), the portal closed, ROLLBACK, Sync, all in one write.
 * The server parses the query as one statement, so even a parser mistake upstream could not
 * smuggle a second one in. When `maxBytes` is passed while rows still arrive, the result is
 * handed over at once and `onOverflow` lets the caller cancel the rest on the server.
 *
 * A `pg` Submittable: `client.query(new ReadOnlyQuery(plan))`.
 */
export class ReadOnlyQuery {
  readonly result: Promise<QueryResult>;
  /** Settles when the server is ready again (after the ROLLBACK, or after an error's Sync). */
  readonly done: Promise<void>;
  /** True when the server reported an error: the transaction is aborted and must be rolled back. */
  failed = false;

  readonly #plan: QueryPlan;
  #con: Connection | undefined;
  #setupLeft: number;
  #columns: Column[] = [];
  #names: string[] = [];
  #parsers: ((value: string) => unknown)[] = [];
  #rows: Record<string, unknown>[] = [];
  #bytes = 0;
  #truncated = false;
  #finished = false;
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

  submit(connection: unknown): void {
    const con = connection as Connection;
    this.#con = con;
    con.stream.cork?.();
    for (const text of this.#plan.setup) {
      con.parse({ text });
      con.bind({});
      con.execute({});
    }
    con.parse({ text: this.#plan.sql });
    con.bind({ portal: PORTAL, values: this.#plan.values.map(prepareValue) });
    con.describe({ type: 'P', name: PORTAL });
    con.execute({ portal: PORTAL, rows: this.#plan.maxRows + 1 });
    con.close({ type: 'P', name: PORTAL });
    con.parse({ text: 'ROLLBACK' });
    con.bind({});
    con.execute({});
    con.sync();
    process.nextTick(() => con.stream.uncork?.());
  }

  handleRowDescription(msg: Message): void {
    const fields = (msg.fields ?? []) as Field[];
    const seen = new Map<string, number>();
    this.#names = fields.map((field) => {
      const count = (seen.get(field.name) ?? 0) + 1;
      seen.set(field.name, count);
      return count === 1 ? field.name : `${field.name}_${count}`;
    });
    this.#columns = fields.map((field, i) => ({ name: this.#names[i] ?? field.name, type: typeName(field.dataTypeID) }));
    this.#parsers = fields.map((field) => (field.dataTypeID === 17 ? keepText : (pg.types.getTypeParser(field.dataTypeID, 'text') as (value: string) => unknown)));
  }

  handleDataRow(msg: Message): void {
    if (this.#setupLeft > 0 || this.#finished) return;
    if (this.#rows.length >= this.#plan.maxRows) {
      this.#truncated = true; // the extra row asked for only says that there are more
      return;
    }
    const values = (msg.fields ?? []) as (string | null)[];
    const row: Record<string, unknown> = {};
    for (let i = 0; i < values.length; i++) {
      const text = values[i] ?? null;
      this.#bytes += text === null ? 4 : text.length;
      row[this.#names[i] ?? String(i)] = text === null ? null : (this.#parsers[i] ?? keepText)(text);
    }
    this.#rows.push(row);
    if (this.#bytes >= this.#plan.maxBytes) {
      this.#truncated = true;
      this.#finish();
      this.#plan.onOverflow();
    }
  }

  handleCommandComplete(): void {
    if (this.#setupLeft > 0) this.#setupLeft -= 1;
    else this.#finish(); // the query's (later ones are the portal close and ROLLBACK: already finished)
  }

  handlePortalSuspended(): void {
    this.#finish(); // maxRows + 1 reached: there were more rows
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#resolve({ columns: this.#columns, rows: this.#rows, rowCount: this.#rows.length, truncated: this.#truncated });
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
    // for on the connection.
    (this.#con as unknown as { once(event: string, listener: () => void): void } | undefined)?.once('readyForQuery', () => this.#ready());
  }

  handleReadyForQuery(): void {
    if (!this.#finished) {
      this.#finished = true;
      this.#reject(new Error('the server ended the exchange without a result'));
    }
    this.#ready();
  }

  handleCopyInResponse(): void {
    this.handleError(new Error('COPY is not allowed'));
  }

  handleCopyData(): void {
    // never expected; COPY is refused above
  }
}
