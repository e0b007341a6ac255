import { GatewayError } from '../errors.js';
import type { Canonical } from '../tools.js';
import { validateSqlSync, type ValidateSqlOptions } from './validate.js';
import { collectingNames } from './walker/names.js';

/**
 * The canonical facts of one SQL text for argument rules, taken from the parse tree as the
 * validator resolves it: `statement` (`select` or `explain`), `explain`, `tables`
 * (`schema.table`, once for every schema an unqualified name may resolve to), `schemas`, and
 * `functions` (names called, and names after a dot that PostgreSQL may read as a call). Quoting,
 * case folding, `U&"…"` escapes and comments are the parser's business, so two spellings of one
 * query give the same facts.
 *
 * @throws GatewayError `SQL_NOT_ALLOWED` when the validator refuses the text (nothing is run).
 */
export function sqlFacts(sql: string, options: ValidateSqlOptions): Canonical {
  const tables = new Set<string>();
  const schemas = new Set<string>();
  const functions = new Set<string>();
  const verdict = collectingNames(
    {
      table(schema, relation) {
        tables.add(`${schema}.${relation}`);
        schemas.add(schema);
      },
      func(name) {
        functions.add(name);
      },
    },
    () => validateSqlSync(sql, options),
  );
  if (!verdict.allowed) {
    throw new GatewayError('SQL_NOT_ALLOWED', `Query refused: ${verdict.reason}.`, { data: { statementType: verdict.statementType } });
  }
  return {
    facts: {
      statement: verdict.statementType,
      explain: verdict.statementType === 'explain',
      tables: [...tables].sort(),
      schemas: [...schemas].sort(),
      functions: [...functions].sort(),
    },
  };
}
