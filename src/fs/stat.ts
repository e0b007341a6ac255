import type { Stats } from 'node:fs';
import { hardLinkRefusal, type PathGuard } from './guard.js';

export type EntryType = 'file' | 'directory' | 'symlink' | 'fifo' | 'socket' | 'device' | 'other';

/** The kind of file `stats` describes. */
export function typeOf(stats: Pick<Stats, 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): EntryType {
  if (stats.isFile()) return 'file';
  if (stats.isDirectory()) return 'directory';
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isSocket()) return 'socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'device';
  return 'other';
}

/** What `fs.stat` returns. */
export interface StatResult {
  path: string;
  type: EntryType;
  size: number;
  /** Permission bits, as an octal string such as `"644"`. */
  mode: string;
  modifiedAt: string;
  changedAt: string;
  accessedAt: string;
  createdAt: string;
}

/** Describes a path inside the roots (the target of its symlinks, which must be inside too). */
export async function statPath(guard: PathGuard, path: string, limits: { refuseHardLinks: boolean } = { refuseHardLinks: true }): Promise<StatResult> {
  const { stats } = await guard.check(path);
  // As fs.readFile: a hard link's metadata is the other name's (a denied file's size and times).
  if (limits.refuseHardLinks && stats.isFile() && stats.nlink > 1) {
    throw hardLinkRefusal(path);
  }
  return {
    path,
    type: typeOf(stats),
    size: stats.size,
    mode: (stats.mode & 0o7777).toString(8),
    modifiedAt: stats.mtime.toISOString(),
    changedAt: stats.ctime.toISOString(),
    accessedAt: stats.atime.toISOString(),
    createdAt: stats.birthtime.toISOString(),
  };
}
