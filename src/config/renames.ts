/**
 * Keys of the seed's `config.yaml` (and older spellings) whose name changed, per section
 * (the section given by its Portcullis path). They are read under the new name, with a warning.
 */
export const RENAMED_KEYS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  server: { http_port: 'port', httpPort: 'port', bind: 'host', bind_address: 'host', bindAddress: 'host', cors: 'corsOrigins', cors_origin: 'corsOrigins', corsOrigin: 'corsOrigins' },
  connectors: { http_fetch: 'http', httpFetch: 'http' },
  'connectors.http': { blocked_domains: 'deniedDomains', blockedDomains: 'deniedDomains' },
  'connectors.postgres': { username: 'user', dbname: 'database', db: 'database' },
  audit: { log_file: 'file', logFile: 'file', path: 'file', log_path: 'file', logPath: 'file' },
};

/** Tool names that changed: the seed's and 402-mcp's names, and the Portcullis tool that does the job. */
export const RENAMED_TOOLS: Readonly<Record<string, string>> = {
  'web.fetch': 'http.fetch',
  'web.*': 'http.*',
  'fs.read_file': 'fs.readFile',
  'fs.list_dir': 'fs.listDir',
  'l402-fetch': 'pay.fetch',
  l402_fetch: 'pay.fetch',
  'l402.fetch': 'pay.fetch',
};


/** `record[key]` when `key` is the record's own (never `__proto__`, `constructor` or another inherited name). */
export function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
