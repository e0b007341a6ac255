import { GatewayError } from '../errors.js';

// Generic texts by SQLSTATE: what went wrong, never the server's message. PostgreSQL's messages
// quote values freely (`invalid input syntax for type integer: "<value>"`, `no operand in
// tsquery: "<value>"`, `relation "<value>" does not exist` from a `::regclass` cast of a
// column), whatever the class, so none of them reaches the agent or the audit record.
const BY_CODE: Readonly<Record<string, string>> = {
  '22001': 'a string is too long for its type',
  '22003': 'a numeric value is out of range',
  '22004': 'a null value is not allowed here',
  '22007': 'a date/time value has an invalid format',
  '22008': 'a date/time value is out of range',
  '22012': 'division by zero',
  '22021': 'a character is not valid in the encoding',
  '22023': 'an invalid parameter value was passed to a function',
  '2202E': 'an array subscript is out of range',
  '2201B': 'an invalid regular expression',
  '22025': 'an invalid escape sequence',
  '22P02': 'a value has an invalid text representation for its type',
  '22P05': 'a character cannot be converted',
  '22030': 'a duplicate JSON key',
  '22032': 'invalid JSON text',
  '25006': 'the database refused a write in the read-only transaction',
  '42501': 'permission denied',
  '42601': 'syntax error (or a value a function could not parse)',
  '42602': 'an invalid name',
  '42622': 'a name is too long',
  '42701': 'a duplicate column',
  '42702': 'an ambiguous column reference',
  '42703': 'an undefined column',
  '42704': 'an undefined object (type, collation, …)',
  '42710': 'a duplicate object',
  '42712': 'a duplicate alias',
  '42725': 'an ambiguous function',
  '42803': 'a grouping error (a column must appear in GROUP BY or be used in an aggregate)',
  '42804': 'a datatype mismatch',
  '42809': 'the wrong kind of object',
  '42846': 'a value cannot be cast to that type',
  '42883': 'an undefined function or operator (for these argument types)',
  '42P01': 'an undefined table',
  '42P02': 'an undefined parameter',
  '42P08': 'an ambiguous parameter',
  '42P09': 'an ambiguous alias',
  '42P10': 'an invalid column reference',
  '42P18': 'an indeterminate datatype (add a cast)',
  '42P19': 'an invalid recursion',
  '42P20': 'a windowing error',
  '53100': 'the database server is out of disk space',
  '53200': 'the database server is out of memory',
  '53400': 'a configured limit was exceeded (temp_file_limit: the query needs too much temporary space)',
  '54000': 'a program limit was exceeded',
  '54001': 'the statement is too complex',
  '55P03': 'a lock could not be obtained within the lock timeout',
  '57P01': 'the server ended the session',
};

const BY_CLASS: Readonly<Record<string, string>> = {
  '08': 'a connection error',
  '0A': 'a feature that is not supported',
  '21': 'a cardinality violation (a subquery returned more than one row)',
  '22': 'a data exception (a value was not valid for its type or operation)',
  '23': 'an integrity constraint violation',
  '25': 'an invalid transaction state',
  '2B': 'a dependent privilege descriptor still exists',
  '28': 'invalid authorization',
  '2F': 'an SQL function failed',
  '38': 'an external routine failed',
  '39': 'an external routine invocation failed',
  '3D': 'an invalid database name',
  '3F': 'an invalid schema name',
  '40': 'the transaction was rolled back (serialization failure or deadlock)',
  '42': 'a syntax error or an access rule violation',
  '53': 'insufficient resources on the database server',
  '54': 'a program limit was exceeded',
  '55': 'an object is not in the required state',
  '57': 'the operator intervened (the query was cancelled or the server is shutting down)',
  '58': 'a system error on the database server',
  F0: 'a configuration file error',
  HV: 'a foreign data wrapper error',
  P0: 'a PL/pgSQL error (raised by a function)',
  XX: 'an internal error of the database server',
};

/** The generic text for a SQLSTATE: by code, else by class. It never holds the server's message. */
export function genericText(code: string | undefined): string {
  if (code === undefined) return 'the query failed';
  return BY_CODE[code] ?? BY_CLASS[code.slice(0, 2)] ?? 'the query failed';
}

/**
 * A server error for the agent: its SQLSTATE, a generic text for it and, for a syntax error, the
 * position in the query (a character offset, which holds no data). The server's message and
 * detail can quote values from tables or parameters, so they go only to `log` (the host's
 * logger) and stay in `cause`; neither the agent nor the audit `reason` sees them.
 */
export function describeServerError(error: unknown, log?: (message: string) => void): GatewayError {
  const e = error as { code?: unknown; message?: unknown; position?: unknown };
  const code = typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) ? e.code : undefined;
  // JSON-quoted and capped: the message echoes agent-chosen literals, which may hold terminal escapes or line breaks.
  if (log !== undefined && typeof e.message === 'string') log(`db.query: PostgreSQL error${code === undefined ? '' : ` ${code}`}: ${JSON.stringify(e.message.slice(0, 2000))}`);
  if (code === '57014') return new GatewayError('TIMEOUT', 'PostgreSQL cancelled the query at its statement timeout.', { cause: error, data: { sqlstate: code } });
  const position = typeof e.position === 'string' && /^\d{1,6}$/.test(e.position) ? Number(e.position) : undefined;
  const where = position === undefined ? '' : ` at character ${position}`;
  return new GatewayError('UPSTREAM_ERROR', `PostgreSQL: ${genericText(code)}${where}${code === undefined ? '' : ` (SQLSTATE ${code})`}.`, {
    cause: error,
    data: { sqlstate: code ?? null, ...(position === undefined ? {} : { position }) },
  });
}
