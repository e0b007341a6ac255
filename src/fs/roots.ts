import { realpath } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { GatewayError } from '../errors.js';

/** A configured path in the two forms it is compared in. */
export interface Root {
  /** As configured, made absolute. */
  readonly lexical: string;
  /** With every symlink resolved. */
  readonly real: string;
  /** As written in the configuration, for messages. */
  readonly configured: string;
}

/** True when `child` is `parent` or lies below it; separator-aware (`/data-evil` is not in `/data`). */
export function isInside(child: string, parent: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith(sep) ? parent : parent + sep;
  return child.startsWith(prefix);
}

/**
 * Resolves the allowed roots once: each must exist and be a directory.
 *
 * @throws GatewayError `CONFIG_INVALID` naming the root that is missing.
 */
export async function resolveAllowedRoots(paths: readonly string[], base: string): Promise<Root[]> {
  return Promise.all(
    paths.map(async (configured) => {
      const lexical = resolve(base, configured);
      try {
        return { lexical, real: await realpath(lexical), configured };
      } catch (error) {
        throw new GatewayError('CONFIG_INVALID', `connectors.filesystem.allowedPaths: "${configured}" does not exist or cannot be read.`, {
          cause: error,
        });
      }
    }),
  );
}

/**
 * Resolves denied paths. One that does not exist yet is resolved through its nearest existing
 * ancestor, so that it is denied in its real form as soon as it is created.
 */
export async function resolveDeniedPaths(paths: readonly string[], base: string): Promise<Root[]> {
  return Promise.all(paths.map(async (configured) => ({ lexical: resolve(base, configured), real: await realpathOfMissing(resolve(base, configured)), configured })));
}

async function realpathOfMissing(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    const parent = dirname(path);
    if (parent === path) return path;
    return join(await realpathOfMissing(parent), basename(path));
  }
}
