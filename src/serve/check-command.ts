// `portcullis check --config FILE`: validates a config and prints what it allows, starting nothing.
import type { ResolvedConfig } from '../config.js';
import { createPolicy } from '../policy/engine.js';
import { spellOut } from '../util/escape.js';
import { describeRules } from './describe-rules.js';
import { describeConfigError, loadServeConfig, parseServeFlags, type ServeFlags } from './load.js';
import { CHECK_USAGE, EXIT, print } from './usage.js';

/** The built-in tools each connector section registers. */
const BUILT_IN: readonly { section: string; tools: readonly string[]; present: (config: ResolvedConfig) => boolean }[] = [
  { section: 'connectors.http', tools: ['http.fetch'], present: (c) => c.connectors.http !== undefined },
  { section: 'connectors.filesystem', tools: ['fs.readFile', 'fs.listDir', 'fs.stat'], present: (c) => c.connectors.filesystem !== undefined },
  { section: 'connectors.postgres', tools: ['db.query', 'db.schema'], present: (c) => c.connectors.postgres !== undefined },
];

/** User text from the config, made visible: invisible and control characters written as `\uXXXX`. */
const show = (text: string): string => spellOut(text);
const list = (items: readonly string[]): string => (items.length === 0 ? '(none)' : items.map(show).join(', '));

/** A connection string without its userinfo (user, password) or query. */
function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** The lines `check` prints for a valid config. */
export function describeConfig(config: ResolvedConfig, source: string): string[] {
  const policy = createPolicy(config.policy);
  const lines: string[] = [`ok: ${show(source)} is a valid Portcullis config`, ''];
  const row = (label: string, value: string): void => void lines.push(`  ${label.padEnd(22)} ${value}`);

  lines.push('policy:');
  row('default deny', config.policy.defaultDeny ? 'on' : 'OFF (every tool not denied may be called)');
  row('allow tools', list(config.policy.allowTools));
  row('deny tools', list(config.policy.denyTools));
  row('timeout / max result', `${config.policy.globalTimeoutMs} ms / ${config.policy.globalMaxBytes} bytes`);
  for (const [tool, limits] of Object.entries(config.policy.perTool)) {
    const parts = [limits.timeoutMs && `timeout ${limits.timeoutMs} ms`, limits.maxBytes && `max ${limits.maxBytes} bytes`, limits.rateLimit && `${limits.rateLimit.maxCalls} calls per ${limits.rateLimit.windowMs} ms`];
    row(`per tool ${show(tool)}`, parts.filter(Boolean).join(', ') || '(no limits)');
  }
  for (const [actor, rules] of Object.entries(config.policy.actors)) {
    row(`actor ${show(actor)}`, `allow ${list(rules.allowTools ?? ['(global)'])}; deny ${list(rules.denyTools ?? [])}`);
  }

  lines.push('', 'argument rules (policy.rules, in order: the first that matches decides; a tool with rules refuses a call none matches):', ...describeRules(config.policy.rules));

  lines.push('', 'built-in tools:');
  for (const { section, tools, present } of BUILT_IN) {
    if (!present(config)) {
      row(tools.join(', '), `not registered (no ${section})`);
      continue;
    }
    for (const tool of tools) {
      const decision = policy.decide(tool);
      row(tool, decision.allowed ? `ALLOWED (${show(decision.rule)})` : `refused (${show(decision.rule)})`);
    }
  }
  const pay = policy.decide('pay.fetch');
  row('pay.fetch', `${pay.allowed ? 'ALLOWED' : 'refused'} (${show(pay.rule)}); registered only when a wallet is configured`);

  const { filesystem, http, postgres } = config.connectors;
  if (filesystem !== undefined) {
    lines.push('', 'filesystem (read-only):');
    row('roots', list(filesystem.allowedPaths));
    row('denied', list(filesystem.deniedPaths ?? []));
    row('max file', `${filesystem.maxFileBytes} bytes (${filesystem.onTooLarge})`);
  }
  if (http !== undefined) {
    lines.push('', 'http:');
    row('domains', list(http.allowedDomains));
    row('denied domains', list(http.deniedDomains));
    row('ports', http.allowedPorts.length === 0 ? '80, 443' : http.allowedPorts.join(', '));
    row('methods', http.allowedMethods.join(', '));
    row('private networks', list(http.allowNetworks));
    const injected = Object.entries(http.injectHeaders).map(([domain, headers]) => `${show(domain)}: ${Object.keys(headers).map(show).join(', ')}`);
    if (injected.length > 0) row('injected headers', `${injected.join('; ')} (values not shown)`);
  }
  if (postgres !== undefined) {
    lines.push('', 'postgres (read-only):');
    row('database', postgres.embedded ? 'embedded (in-process PGlite)' : postgres.connectionString !== undefined ? show(redactUrl(postgres.connectionString)) : 'from PG* environment variables');
    row('max rows', String(postgres.maxRows));
    if (postgres.allowSchemas !== undefined) row('schemas', list(postgres.allowSchemas));
    if (postgres.allowTables !== undefined) row('tables', list(postgres.allowTables));
  }

  const p = config.payments;
  lines.push('', 'payments (caps, sats):');
  row('auto-pay up to', `${p.maxAutoPaySats} per payment (above: approval required)`);
  row('spend per minute', String(p.maxSpendPerMinuteSats));
  if (p.maxSpendPerDaySats !== undefined) row('spend per day', String(p.maxSpendPerDaySats));
  if (p.maxSpendPerOriginPerMinuteSats !== undefined) row('per origin per minute', String(p.maxSpendPerOriginPerMinuteSats));
  if (p.maxSpendPerActorPerMinuteSats !== undefined) row('per actor per minute', String(p.maxSpendPerActorPerMinuteSats));
  row('max fee', String(p.maxFeeSats));
  row('network', p.network);
  if (p.alwaysAskOrigins.length > 0) row('always ask', list(p.alwaysAskOrigins));

  lines.push('', 'audit:');
  row('file', config.audit.file === undefined ? '(none: calls are not recorded)' : `${show(config.audit.file)} (${config.audit.durability}${config.audit.fsync ? ', fsync' : ''})`);

  const s = config.server;
  lines.push('', 'server:');
  row('transport', s.transport === 'http' ? `http on ${show(s.host)}:${s.port} (/mcp, /health, /ready)` : 'stdio');
  row('name', show(s.name));
  row('tool names', s.toolNames === 'underscore' ? 'underscore (fs.readFile shown as fs_readFile)' : 'dotted');
  if (s.transport === 'http') row('cors origins', list(s.corsOrigins));
  return lines;
}

/** `portcullis check --config FILE`: 0 and a summary for a valid config, 2 and the issues for a bad one. */
export async function checkCommand(argv: readonly string[]): Promise<number> {
  let flags: ServeFlags;
  try {
    flags = parseServeFlags(argv, 'check');
    if (!flags.help && flags.config === undefined) throw new Error('--config FILE is required');
  } catch (error) {
    console.error(`${spellOut((error as Error).message)}\n${CHECK_USAGE}`);
    return EXIT.usage;
  }
  if (flags.help) {
    print(CHECK_USAGE);
    return EXIT.ok;
  }
  const warnings: string[] = [];
  let config: ResolvedConfig;
  try {
    config = (await loadServeConfig(flags, process.env, (message) => warnings.push(message))).resolved;
  } catch (error) {
    console.error(describeConfigError(error));
    return EXIT.usage;
  }
  const lines = describeConfig(config, flags.config ?? '');
  if (warnings.length > 0) lines.push('', 'warnings:', ...warnings.map((w) => `  - ${show(w)}`));
  print(lines.join('\n'));
  return EXIT.ok;
}
