import type pg from 'pg';
import { chainLine } from '../audit/chain.js';
import type { AuditRecord, AuditSink, ChainedAuditRecord, ChainHead } from '../audit/record.js';
import { verifyAuditRecords, type AuditVerification, type VerifyAuditOptions } from '../audit/verify.js';
import { checkSchema, migrate } from './migrate.js';

/** Options of {@link postgresAuditSink}. */
export interface PostgresAuditSinkOptions {
  pool: pg.Pool;
  /** @default 'portcullis' */
  schema?: string | undefined;
  /** The chain written to; processes sharing a stream extend one chain. @default 'default' */
  stream?: string | undefined;
}

/**
 * An audit sink that appends to a hash chain in PostgreSQL, shared by every process writing the
 * same stream: each batch takes the stream's advisory lock, reads the head, chains its records
 * after it and inserts them in one statement. Records are the same canonical JSON lines as the
 * file sink's, so the same verifier checks them ({@link verifyPostgresAudit}). A failed write
 * throws: the audit log keeps the batch queued (bounded) and reports the sink unhealthy.
 *
 * @example
 * ```ts
 * const gw = await createGateway({ audit: { sinks: [postgresAuditSink({ pool })] } });
 * ```
 */
export function postgresAuditSink(options: PostgresAuditSinkOptions): AuditSink & { head(): ChainHead | undefined } {
  const schema = checkSchema(options.schema);
  const stream = options.stream ?? 'default';
  const table = `${schema}.audit_records`;
  let head: ChainHead | undefined;
  return {
    name: `postgres:${schema}.audit_records/${stream}`,
    head: () => head,
    // (stream, seq) is the primary key: two writers can never both append record N, so the
    // chain cannot fork silently.
    open: () =>
      migrate(options.pool, schema, 'audit', 1, [
        `CREATE TABLE IF NOT EXISTS ${table} (stream text NOT NULL, seq bigint NOT NULL, line text NOT NULL, hash text NOT NULL, PRIMARY KEY (stream, seq))`,
      ]),
    async write(records: readonly AuditRecord[]) {
      const client = await options.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`portcullis-audit:${stream}`]);
        const last = await client.query<{ seq: string; hash: string }>(`SELECT seq, hash FROM ${table} WHERE stream = $1 ORDER BY seq DESC LIMIT 1`, [stream]);
        let next: ChainHead | undefined = last.rows[0] === undefined ? undefined : { seq: Number(last.rows[0].seq), hash: last.rows[0].hash };
        const seqs: number[] = [];
        const lines: string[] = [];
        const hashes: string[] = [];
        for (const record of records) {
          const chained = chainLine(record, next);
          next = chained.head;
          seqs.push(chained.head.seq);
          lines.push(chained.line);
          hashes.push(chained.head.hash);
        }
        await client.query(`INSERT INTO ${table} (stream, seq, line, hash) SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])`, [stream, seqs, lines, hashes]);
        await client.query('COMMIT');
        head = next;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

/**
 * Verifies a stream's chain in the database: sequence, links and hashes, as for a file.
 * Detects an edited, deleted, inserted or reordered row; with `expectedHead`, a cut-off tail.
 */
export async function verifyPostgresAudit(options: PostgresAuditSinkOptions & VerifyAuditOptions): Promise<AuditVerification> {
  const schema = checkSchema(options.schema);
  const stream = options.stream ?? 'default';
  const { rows } = await options.pool.query<{ seq: string; line: string }>(`SELECT seq, line FROM ${schema}.audit_records WHERE stream = $1 ORDER BY seq`, [stream]);
  // A row's position must match its seq: a deleted row leaves a gap the chain check reports.
  return verifyAuditRecords(
    rows.map((row) => row.line as string | ChainedAuditRecord),
    options.expectedHead === undefined ? {} : { expectedHead: options.expectedHead },
  );
}
