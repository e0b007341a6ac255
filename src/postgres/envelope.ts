// The read-only envelope's message sequence, written once for both executors: the server's (pg's
// Connection writes each message) and the embedded one's (PGlite's serializer, in its worker).
import { createRequire } from 'node:module';

// pg's own parameter preparation (dates, arrays, JSON), as for a plain parameterised query; it is
// not part of pg's typed exports.
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue: (value: unknown) => unknown };

/** The portal the agent's query is bound to. */
export const PORTAL = 'portcullis';

/** The extended-protocol messages the envelope sends (pg's Connection and pg-protocol's serialize share these shapes). */
export interface EnvelopeWriter {
  parse(query: { text: string }): void;
  bind(config: { portal?: string; values?: (string | null)[] }): void;
  describe(config: { type: 'P'; name: string }): void;
  execute(config: { portal?: string; rows?: number }): void;
  close(config: { type: 'P'; name: string }): void;
  sync(): void;
}

/** What one envelope runs. */
export interface EnvelopeStatements {
  /** Trusted statements run first, in the same transaction (BEGIN READ ONLY, the settings). */
  setup: readonly string[];
  /** The agent's query (validated), parsed as one statement and bound to {@link PORTAL}. */
  sql: string;
  values: readonly unknown[];
  maxRows: number;
  /** Trusted statements after the ROLLBACK (session clean-up). */
  teardown?: readonly string[] | undefined;
}

/**
 * Writes the envelope: the setup statements, the query bound to a portal, described and executed
 * for at most `maxRows + 1` rows (so the server itself stops at the row limit), the portal closed,
 * ROLLBACK, the teardown, Sync. The query is its own Parse message: the server parses it as one
 * statement, and no text of the agent's reaches any other message.
 */
export function writeEnvelope(out: EnvelopeWriter, envelope: EnvelopeStatements): void {
  for (const text of envelope.setup) {
    out.parse({ text });
    out.bind({});
    out.execute({});
  }
  out.parse({ text: envelope.sql });
  out.bind({ portal: PORTAL, values: envelope.values.map((value) => prepareValue(value) as string | null) });
  out.describe({ type: 'P', name: PORTAL });
  out.execute({ portal: PORTAL, rows: envelope.maxRows + 1 });
  out.close({ type: 'P', name: PORTAL });
  out.parse({ text: 'ROLLBACK' });
  out.bind({});
  out.execute({});
  for (const text of envelope.teardown ?? []) {
    out.parse({ text });
    out.bind({});
    out.execute({});
  }
  out.sync();
}
