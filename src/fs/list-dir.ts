import { constants, existsSync, type Dirent } from 'node:fs';
import { lstat, open, opendir, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { GatewayError } from '../errors.js';
import { shown, type PathGuard } from './guard.js';
import { typeOf, type EntryType } from './stat.js';

/** Arguments of `fs.listDir`. */
export interface ListDirArgs {
  path: string;
  /** Descend into subdirectories (never through symlinks). @default false */
  recursive?: boolean | undefined;
  /** Depth to descend at most, 1 = the directory itself. */
  maxDepth?: number | undefined;
  /** Entries to return at most. */
  maxEntries?: number | undefined;
}

/** One entry of a listing. */
export interface ListEntry {
  /** Relative to the listed directory, with `/` separators. */
  path: string;
  name: string;
  type: EntryType;
  /** Size in bytes, for regular files. */
  size?: number;
}

export interface ListDirResult {
  path: string;
  entries: ListEntry[];
  /** True when `maxEntries` cut the listing short. */
  truncated: boolean;
}

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
// On Linux a directory descriptor can be re-entered through /proc/self/fd: listing and
// descending that way is immune to a directory being swapped for a symlink mid-walk.
const PROC_FD = existsSync('/proc/self/fd') ? '/proc/self/fd' : undefined;

function direntType(entry: Dirent): EntryType {
  return typeOf(entry);
}

/**
 * Lists a directory inside the roots. Symlinks are listed as such and never followed; denied
 * paths are absent; depth and entry count are bounded.
 */
export async function listDir(
  guard: PathGuard,
  args: ListDirArgs,
  limits: { maxEntries: number; maxDepth: number; refuseHardLinks?: boolean },
  signal?: AbortSignal,
): Promise<ListDirResult> {
  const checked = await guard.check(args.path);
  if (!checked.stats.isDirectory()) {
    throw new GatewayError('NOT_A_DIRECTORY', `Path ${shown(args.path)} is a ${typeOf(checked.stats)}, not a directory.`);
  }
  const maxEntries = Math.min(args.maxEntries ?? limits.maxEntries, limits.maxEntries);
  const maxDepth = args.recursive === true ? Math.min(args.maxDepth ?? limits.maxDepth, limits.maxDepth) : 1;
  const entries: ListEntry[] = [];
  let truncated = false;

  async function walk(handle: FileHandle, real: string, prefix: string, depth: number): Promise<void> {
    const location = PROC_FD === undefined ? real : `${PROC_FD}/${handle.fd}`;
    const names: Dirent[] = [];
    const dir = await opendir(location);
    try {
      for await (const entry of dir) {
        if (!guard.isListable(join(real, entry.name))) continue; // denied: simply absent
        names.push(entry);
        if (entries.length + names.length > maxEntries) break;
      }
    } finally {
      await dir.close().catch(() => undefined);
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of names) {
      signal?.throwIfAborted();
      if (entries.length >= maxEntries) {
        truncated = true;
        return;
      }
      const type = direntType(entry);
      const item: ListEntry = { path: prefix + entry.name, name: entry.name, type };
      if (type === 'file') {
        // A hard-linked file's size is its other name's (perhaps a denied file): left out.
        const stats = await lstat(`${location}/${entry.name}`);
        if (limits.refuseHardLinks === false || stats.nlink <= 1) item.size = stats.size;
      }
      entries.push(item);
      if (type === 'directory' && depth < maxDepth) {
        const child = await open(`${location}/${entry.name}`, DIRECTORY_FLAGS).catch(() => undefined);
        if (child === undefined) continue; // replaced by a symlink or removed since it was listed
        try {
          await walk(child, join(real, entry.name), `${prefix}${entry.name}/`, depth + 1);
        } finally {
          await child.close();
        }
        if (truncated) return;
      }
    }
  }

  const root = await guard.open(checked, true);
  try {
    await walk(root, checked.real, '', 1);
  } finally {
    await root.close();
  }
  return { path: args.path, entries, truncated };
}
