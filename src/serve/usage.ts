// What the command line prints for help and misuse, and its exit codes (one place for all commands).
import { readFileSync } from 'node:fs';

/** Exit codes of every command: 0 ok, 1 a runtime failure (or a tampered log), 2 misuse or a bad config. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export const SERVE_USAGE = `usage: portcullis serve [--config FILE] [--transport stdio|http] [--host ADDR] [--port N] [--tool-names dotted|underscore]

  --config FILE          YAML config (the gateway security guide's config.yaml layout); the
                         environment (MAX_AUTO_PAY_SATS, AUDIT_FILE, ...) is merged over it
  --transport stdio|http MCP over stdin/stdout, or the hardened streamable-HTTP endpoint /mcp
                         (with GET /health and GET /ready); default: server.transport, else stdio
  --host ADDR            address the HTTP transport binds; default: server.host, else 127.0.0.1
  --port N               port of the HTTP transport (0: a free one); default: server.port, else 3000
  --tool-names MODE      'underscore' shows fs.readFile as fs_readFile, for clients that only
                         accept [a-zA-Z0-9_-]{1,64}; default: server.toolNames, else dotted

Wallets come from the environment: NWC_URI_FILE (a 0600 file) or NWC_URI an NWC wallet;
CASHU_TOKENS with CASHU_MINTS a Cashu wallet over the credential store, the token file imported.

Logs go to stderr. SIGINT or SIGTERM (or, on stdio, the client closing stdin) stops the server:
the audit log is flushed and the gateway closed before it exits.`;

export const CHECK_USAGE = `usage: portcullis check --config FILE

  Validates the config (with the environment merged over it, as serve does) and prints what it
  allows: tools, argument rules, filesystem roots, domains, payment caps, server. Starts nothing.`;

export const AUDIT_USAGE = `usage: portcullis audit verify FILE [--head SEQ:HASH] [--key KEYFILE] [--public-key PEMFILE]

  --head SEQ:HASH        the head recorded elsewhere (gw.audit.head()): a missing tail fails
  --key KEYFILE          key file of a keyed chain (audit.key: 32 bytes, base64)
  --public-key PEMFILE   Ed25519 public key (SPKI PEM) of audit.signingKey: signed heads must verify

exit status: 0 intact, 1 tampered, 2 misuse or unreadable input`;

export const USAGE = `usage: portcullis <command> [options]

commands:
  serve [--config FILE] [--transport stdio|http] [--host ADDR] [--port N]   run an MCP server
  check --config FILE                                                       validate a config, print what it allows
  audit verify FILE [--head SEQ:HASH] [--key KEYFILE] [--public-key PEM]    verify an audit log's hash chain

  portcullis <command> --help   options of a command
  portcullis --version          the installed version

exit status: 0 ok; 1 runtime failure (audit verify: the log is tampered); 2 usage or config error`;

/** A usage mistake: printed with the command's usage, exit 2. */
export class Misuse extends Error {}

/** The package's version, from its package.json (beside src/ and dist/ alike). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** Throws {@link Misuse} when an option was given twice (parseArgs keeps the last silently). */
export function refuseRepeated(tokens: readonly { kind: string; name?: string }[]): void {
  const names = tokens.flatMap((token) => (token.kind === 'option' && token.name !== undefined ? [token.name] : []));
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new Misuse(`--${repeated} given more than once`);
}

/** Whether an error is a usage error of parseArgs or ours. */
export function isMisuse(error: unknown): error is Error {
  return error instanceof Misuse || (error as NodeJS.ErrnoException | undefined)?.code?.startsWith('ERR_PARSE_ARGS') === true;
}

/** Writes a line to stdout (what a command reports; logs and errors go to stderr). */
export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
