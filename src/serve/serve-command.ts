// `portcullis serve`: the gateway built from a config file and the environment, served as MCP
// over stdio or the hardened HTTP endpoint, until SIGINT/SIGTERM (or stdin closing, on stdio).
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { serveMcpHttp } from '../adapters/mcp/http.js';
import { registerGatewayTools } from '../adapters/mcp/tools.js';
import { createGateway, type Gateway } from '../gateway.js';
import { isGatewayError } from '../errors.js';
import { spellOut } from '../util/escape.js';
import { describeConfigError, loadServeConfig, parseServeFlags, stderrWarn, type ServeFlags } from './load.js';
import { buildRuntime, type ServeRuntime } from './runtime.js';
import { EXIT, isMisuse, packageVersion, print, SERVE_USAGE } from './usage.js';

/** How long shutdown may take (closing calls in flight, flushing the audit) before exit 1. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

function log(message: string): void {
  process.stderr.write(`portcullis: ${spellOut(message)}\n`);
}

/** `portcullis serve`: resolves with the exit code once the server has stopped. */
export async function serveCommand(argv: readonly string[]): Promise<number> {
  let flags: ServeFlags;
  try {
    flags = parseServeFlags(argv, 'serve');
  } catch (error) {
    if (!isMisuse(error)) throw error;
    console.error(`${spellOut(error.message)}\n${SERVE_USAGE}`);
    return EXIT.usage;
  }
  if (flags.help) {
    print(SERVE_USAGE);
    return EXIT.ok;
  }

  let gw: Gateway;
  let runtime: ServeRuntime | undefined;
  try {
    const { config, resolved, hints } = await loadServeConfig(flags, process.env, stderrWarn);
    runtime = await buildRuntime(hints, resolved, process.env, log, stderrWarn);
    gw = await createGateway(config, { logger: { warn: stderrWarn }, ...runtime.deps });
  } catch (error) {
    await runtime?.close();
    console.error(describeConfigError(error));
    return isGatewayError(error) && error.code === 'CONFIG_INVALID' ? EXIT.usage : EXIT.failure;
  }
  const wallets = runtime;
  if (gw.listTools().length === 0) {
    stderrWarn('no tool is allowed: clients will see an empty tool list. List the tools to serve in policy.allowTools (allow_tools in the config file).');
  }

  const { transport, host, port, corsOrigins, name, toolNames } = gw.config.server;
  const version = packageVersion();
  let stopping = false;
  let closeTransport: () => Promise<void>;
  try {
    if (transport === 'http') {
      const http = await serveMcpHttp(gw, {
        host,
        port,
        corsOrigins,
        name,
        version,
        toolNames,
        warn: stderrWarn,
        ready: () => !stopping && gw.audit.health().healthy,
      });
      closeTransport = () => http.close();
      log(`MCP endpoint ${http.url} (GET /health, GET /ready); ${gw.listTools().length} tools allowed`);
    } else {
      const server = new McpServer({ name, version });
      registerGatewayTools(server, gw, { actor: 'mcp-stdio', toolNames });
      await server.connect(new StdioServerTransport());
      closeTransport = () => server.close();
      log(`serving MCP over stdio; ${gw.listTools().length} tools allowed`);
    }
  } catch (error) {
    await gw.close().catch(() => undefined);
    await wallets.close();
    console.error(describeConfigError(error));
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') console.error(`cannot listen on ${spellOut(host)}:${port}: ${code}`);
    return isGatewayError(error) && error.code === 'CONFIG_INVALID' ? EXIT.usage : EXIT.failure;
  }

  return new Promise<number>((resolve) => {
    const stop = (why: string): void => {
      if (stopping) return;
      stopping = true;
      log(`${why}: stopping (flushing the audit log)`);
      const timer = setTimeout(() => {
        log(`shutdown took over ${SHUTDOWN_TIMEOUT_MS} ms: exiting without a clean close`);
        resolve(EXIT.failure);
      }, SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      void (async () => {
        let code: number = EXIT.ok;
        await closeTransport().catch(() => undefined);
        try {
          await gw.close();
        } catch (error) {
          log(`closing the gateway failed: ${spellOut(error instanceof Error ? error.message : String(error))}`);
          code = EXIT.failure;
        }
        await wallets.close();
        clearTimeout(timer);
        resolve(code);
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    if (transport === 'stdio') {
      process.stdin.once('end', () => stop('stdin closed'));
      process.stdin.once('close', () => stop('stdin closed'));
    }
  });
}
