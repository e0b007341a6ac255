import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { GatewayError } from '../errors.js';
import { defineTool, type ToolDefinition } from '../tools.js';
import { filesystemConnectorSchema, type FilesystemConnectorConfig } from './config.js';
import { extname } from 'node:path';
import type { Canonical, ToolContext } from '../tools.js';
import { MAX_PATH_LENGTH, PathGuard, type BeforeOpenHook, type CheckedPath } from './guard.js';
import { typeOf } from './stat.js';
import { listDir, type ListDirArgs, type ListDirResult } from './list-dir.js';
import { readFile, type ReadFileArgs, type ReadFileResult } from './read-file.js';
import { resolveAllowedRoots, resolveDeniedPaths } from './roots.js';
import { statPath, type StatResult } from './stat.js';

/** Hooks for tests and instrumentation. */
export interface FilesystemHooks {
  /** Runs between the checks and the open of every file and directory. */
  beforeOpen?: BeforeOpenHook | undefined;
  /** Base of relative `allowedPaths` and `deniedPaths`. @default process.cwd() */
  cwd?: string | undefined;
}

/** The read-only filesystem connector, usable on its own. */
export interface Filesystem {
  readFile(args: ReadFileArgs, options?: { maxBytes?: number; signal?: AbortSignal }): Promise<ReadFileResult>;
  listDir(args: ListDirArgs, options?: { signal?: AbortSignal }): Promise<ListDirResult>;
  stat(args: { path: string }): Promise<StatResult>;
  /** The `fs.readFile`, `fs.listDir` and `fs.stat` tools. */
  tools(): ToolDefinition[];
}

const pathArg = z.string().min(1).max(MAX_PATH_LENGTH).describe('Path inside the allowed directories; relative paths start at the first one');

/**
 * Creates the filesystem connector: resolves the roots to real paths once (a missing root is
 * `CONFIG_INVALID`) and returns operations that cannot leave them.
 *
 * @throws GatewayError `CONFIG_INVALID`.
 * @example
 * ```ts
 * const files = await createFilesystem({ allowedPaths: ['./data'], deniedPaths: ['./data/secrets'] });
 * const { content } = await files.readFile({ path: 'notes.txt' });
 * ```
 */
export async function createFilesystem(config: z.input<typeof filesystemConnectorSchema>, hooks: FilesystemHooks = {}): Promise<Filesystem> {
  const parsed = filesystemConnectorSchema.safeParse(config);
  if (!parsed.success) {
    throw new GatewayError('CONFIG_INVALID', `Invalid connectors.filesystem: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const options: FilesystemConnectorConfig = parsed.data;
  const cwd = hooks.cwd ?? process.cwd();
  const roots = await resolveAllowedRoots(options.allowedPaths, cwd);
  for (const root of roots) {
    if (!(await stat(root.real)).isDirectory()) {
      throw new GatewayError('CONFIG_INVALID', `connectors.filesystem.allowedPaths: "${root.configured}" is not a directory.`);
    }
  }
  const guard = new PathGuard(roots, await resolveDeniedPaths(options.deniedPaths, cwd), hooks.beforeOpen);
  const readLimits = { onTooLarge: options.onTooLarge, refuseHardLinks: options.refuseHardLinks };
  const listLimits = { maxEntries: options.maxEntries, maxDepth: options.maxDepth, refuseHardLinks: options.refuseHardLinks };

  // Argument rules: the facts are those of the real path the guard resolved, and the execution
  // opens that very file (the guard's open confirms its device and inode), not the path again.
  const canonicalize = async (args: { path: string }): Promise<Canonical> => {
    const checked = await guard.check(args.path);
    const { stats, real } = checked;
    return { facts: { path: real, extension: extname(real).toLowerCase(), size: stats.size, type: typeOf(stats) }, pinned: checked };
  };
  const guardFor = (ctx: ToolContext, given: string): PathGuard => {
    const pinned = ctx.canonical?.pinned as CheckedPath | undefined;
    if (pinned === undefined || pinned.given !== given) return guard;
    return new Proxy(guard, {
      get(target, key) {
        if (key === 'check') return () => Promise.resolve(pinned);
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };

  const files: Filesystem = {
    readFile: (args, { maxBytes, signal } = {}) =>
      readFile(guard, args, { ...readLimits, maxBytes: Math.min(maxBytes ?? options.maxFileBytes, options.maxFileBytes) }, signal),
    listDir: (args, { signal } = {}) => listDir(guard, args, listLimits, signal),
    stat: (args) => statPath(guard, args.path, { refuseHardLinks: options.refuseHardLinks }),
    tools: () => [
      defineTool({
        name: 'fs.readFile',
        description: 'Reads a file in the allowed directories (text, or base64 for binary).',
        inputSchema: z.strictObject({
          path: pathArg,
          encoding: z.enum(['utf8', 'base64']).default('utf8'),
          offset: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
          length: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
        }),
        execute: (args, ctx) =>
          readFile(guardFor(ctx, args.path), args, { ...readLimits, maxBytes: Math.min(ctx.limits.maxBytes, options.maxFileBytes) }, ctx.signal),
        measure: (result) => result.bytesRead,
        canonicalize,
      }),
      defineTool({
        name: 'fs.listDir',
        description: 'Lists a directory in the allowed directories; symlinks are shown, not followed.',
        inputSchema: z.strictObject({
          path: pathArg,
          recursive: z.boolean().default(false),
          maxDepth: z.number().int().positive().max(32).optional(),
          maxEntries: z.number().int().positive().max(100_000).optional(),
        }),
        execute: (args, ctx) => listDir(guardFor(ctx, args.path), args, listLimits, ctx.signal),
        canonicalize,
      }),
      defineTool({
        name: 'fs.stat',
        description: 'Type, size, permissions and times of a path in the allowed directories.',
        inputSchema: z.strictObject({ path: pathArg }),
        execute: (args, ctx) => statPath(guardFor(ctx, args.path), args.path, { refuseHardLinks: options.refuseHardLinks }),
        canonicalize,
      }),
    ] as ToolDefinition[],
  };
  return files;
}
