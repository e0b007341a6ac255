import type { ResolvedConfig } from './config.js';
import { GatewayError, isGatewayError } from './errors.js';
import { createFilesystem, type FilesystemHooks } from './fs/connector.js';
import type { GuardedAgentOptions } from './net/agent.js';
import { httpConnectorSchema } from './net/config.js';
import { createGuardedFetch, type GuardedFetch } from './net/fetch.js';
import type { Resolver } from './net/resolver.js';
import { httpFetchTool } from './net/tool.js';
import type { EmbeddedDatabase } from './postgres/embedded-executor.js';
import type { ToolDefinition } from './tools.js';

/** What the connectors take from `GatewayDeps`. */
export interface ConnectorDeps {
  resolver?: Resolver | undefined;
  dial?: GuardedAgentOptions['dial'];
  tls?: GuardedAgentOptions['tls'];
  fsHooks?: FilesystemHooks | undefined;
  embeddedPostgres?: EmbeddedDatabase | undefined;
}

/** The built-in connectors of one gateway. */
export interface Connectors {
  fetch: GuardedFetch;
  /** Built-in tools of the configured connectors. */
  tools: ToolDefinition[];
  close(): Promise<void>;
}

/**
 * Opens the connectors named in `connectors`: each compiles and checks its options once.
 *
 * @throws GatewayError `CONFIG_INVALID` naming the connector.
 */
export async function openConnectors(config: ResolvedConfig['connectors'], deps: ConnectorDeps, warn: (message: string) => void): Promise<Connectors> {
  const http = config.http ?? httpConnectorSchema.parse({});
  let fetch: GuardedFetch;
  try {
    fetch = createGuardedFetch({ ...http, resolver: deps.resolver, dial: deps.dial, tls: deps.tls, warn });
  } catch (error) {
    throw isGatewayError(error) ? error : new GatewayError('CONFIG_INVALID', `Invalid connectors.http: ${(error as Error).message}.`, { cause: error });
  }
  if (http.allowNetworks.some((cidr) => cidr === '0.0.0.0/0' || cidr === '::/0')) {
    warn('connectors.http.allowNetworks allows every address: the SSRF guard no longer protects internal networks. Never do this in production.');
  }
  const tools: ToolDefinition[] = [];
  const closers: (() => Promise<void>)[] = [() => fetch.close()];
  const close = async (): Promise<void> => {
    await Promise.all(closers.map((closer) => closer()));
  };
  if (config.http !== undefined) tools.push(httpFetchTool(fetch, http));
  try {
    if (config.filesystem !== undefined) tools.push(...(await createFilesystem(config.filesystem, deps.fsHooks)).tools());
    if (config.postgres !== undefined) {
      // Loaded only when configured: hosts that never query a database do not load pg or the parser.
      const { createPostgres } = await import('./postgres/connector.js');
      const postgres = await createPostgres(config.postgres, { warn, embedded: deps.embeddedPostgres });
      closers.push(() => postgres.close());
      tools.push(...postgres.tools());
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { fetch, tools, close };
}
