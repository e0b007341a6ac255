// The configuration `portcullis serve` and `portcullis check` build: the YAML file, the
// environment over it, the command-line flags over both, exactly as a host would in code.
import { parseArgs } from 'node:util';
import { parseConfig, type GatewayConfig, type ResolvedConfig } from '../config.js';
import { loadGatewayConfig, mergeConfig, type RuntimeHints } from '../config-loaders.js';
import { isGatewayError } from '../errors.js';
import type { McpToolNames } from '../adapters/mcp/names.js';
import { spellOut } from '../util/escape.js';
import { Misuse, refuseRepeated } from './usage.js';

/** The flags of `serve` (and `check`, which takes `--config` only). */
export interface ServeFlags {
  help: boolean;
  config?: string | undefined;
  transport?: 'stdio' | 'http' | undefined;
  host?: string | undefined;
  port?: number | undefined;
  toolNames?: McpToolNames | undefined;
}

/**
 * Parses the flags of `serve` or `check`: unknown, repeated or malformed flags and stray
 * arguments are {@link Misuse}.
 */
export function parseServeFlags(argv: readonly string[], command: 'serve' | 'check'): ServeFlags {
  const serveOnly = {
    transport: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    'tool-names': { type: 'string' },
  } as const;
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    tokens: true,
    options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' }, ...(command === 'serve' ? serveOnly : {}) },
  });
  refuseRepeated(tokens);
  if (positionals.length > 0) throw new Misuse(`unexpected argument ${JSON.stringify(positionals[0]?.slice(0, 100))}`);
  const v = values as Record<string, string | boolean | undefined>;
  const flags: ServeFlags = { help: v.help === true };
  if (typeof v.config === 'string') {
    if (v.config === '') throw new Misuse('--config needs a file name');
    flags.config = v.config;
  }
  if (v.transport !== undefined) {
    if (v.transport !== 'stdio' && v.transport !== 'http') throw new Misuse(`--transport is stdio or http, not ${JSON.stringify(String(v.transport).slice(0, 100))}`);
    flags.transport = v.transport;
  }
  if (v.port !== undefined) {
    const text = String(v.port);
    if (!/^[0-9]{1,5}$/.test(text) || Number(text) > 65_535) throw new Misuse(`--port is a number from 0 to 65535, not ${JSON.stringify(text.slice(0, 100))}`);
    flags.port = Number(text);
  }
  if (v.host !== undefined) {
    if (v.host === '') throw new Misuse('--host needs an address');
    flags.host = String(v.host);
  }
  if (v['tool-names'] !== undefined) {
    const mode = v['tool-names'];
    if (mode !== 'dotted' && mode !== 'underscore') throw new Misuse(`--tool-names is dotted or underscore, not ${JSON.stringify(String(mode).slice(0, 100))}`);
    flags.toolNames = mode;
  }
  return flags;
}

/** Variables `serve` reads itself (not configuration): not refused as unknown. */
export const SERVE_VARIABLES: readonly string[] = ['CASHU_MINTS'];

/** What {@link loadServeConfig} returns: the config with the flags applied, and the runtime hints of the environment. */
export interface ServeConfig {
  config: GatewayConfig;
  resolved: ResolvedConfig;
  hints: RuntimeHints;
}

/**
 * The config file (when given), the environment over it (`loadGatewayConfig`, as a host would
 * call it), and the flags over both.
 *
 * @throws GatewayError `CONFIG_INVALID` for an unreadable file, bad YAML or a malformed or unknown variable.
 */
export async function loadServeConfig(flags: ServeFlags, env: Readonly<Record<string, string | undefined>>, warn: (message: string) => void): Promise<ServeConfig> {
  const loaded = await loadGatewayConfig({ file: flags.config, env, warn, otherVariables: SERVE_VARIABLES });
  const server: Record<string, unknown> = {};
  if (flags.transport !== undefined) server.transport = flags.transport;
  if (flags.host !== undefined) server.host = flags.host;
  if (flags.port !== undefined) server.port = flags.port;
  if (flags.toolNames !== undefined) server.toolNames = flags.toolNames;
  if (Object.keys(server).length === 0) return loaded;
  const config = mergeConfig(loaded.config, { server });
  return { config, resolved: parseConfig(config), hints: loaded.hints };
}

/** A configuration error as lines for a person: the message, then each issue; text from the config spelled out. */
export function describeConfigError(error: unknown): string {
  if (!isGatewayError(error)) return `error: ${spellOut(error instanceof Error ? error.message : String(error))}`;
  const issues = (error.data as { issues?: unknown } | undefined)?.issues;
  const lines = [`${error.code}: ${spellOut(error.message)}`];
  if (Array.isArray(issues) && issues.length > 1) {
    for (const issue of issues) {
      if (typeof issue === 'string') lines.push(`  - ${spellOut(issue)}`);
      else if (issue !== null && typeof issue === 'object') {
        const { path, message } = issue as { path?: unknown; message?: unknown };
        lines.push(`  - ${spellOut(typeof path === 'string' ? path : '')}: ${spellOut(typeof message === 'string' ? message : '')}`);
      }
    }
  }
  return lines.join('\n');
}

/** Where warnings go: stderr, one line each, spelled out (stdout is the MCP channel on stdio). */
export function stderrWarn(message: string): void {
  process.stderr.write(`portcullis: warning: ${spellOut(message)}\n`);
}
