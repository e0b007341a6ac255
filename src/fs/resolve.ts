import type { Stats } from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { dirname, isAbsolute, join, parse, sep } from 'node:path';
import { isInside, type Root } from './roots.js';

/** Symbolic links followed at most while resolving one path (Linux's MAXSYMLINKS). */
const MAX_LINKS = 40;

/** Where the resolution of a path ended. */
export type Resolution =
  | { kind: 'found'; real: string; stats: Stats }
  /** A component does not exist (ENOENT) or is not a directory (ENOTDIR). */
  | { kind: 'missing' }
  /** The resolution would touch a path outside the roots or inside a denied path. */
  | { kind: 'outside' }
  | { kind: 'denied'; denied: Root }
  | { kind: 'loop' }
  | { kind: 'unreadable' };

/**
 * Resolves `lexical` (absolute, without `..` components) the way the kernel would, one
 * component at a time, but never `lstat`s or `readlink`s a path outside the roots or inside
 * a denied path: the walk stops with `outside` or `denied` before it would. So the verdict
 * depends only on what lies inside the roots, and whether a file exists outside them (or
 * inside a denied path) cannot change it: the existence oracle of `realpath` then `ENOENT`.
 *
 * Proper ancestors of a root are crossed without being read (they are directories: a real
 * path has no symlinks), and a root's configured (lexical) name is mapped to its real path.
 */
export async function resolveConfined(lexical: string, roots: readonly Root[], denied: readonly Root[]): Promise<Resolution> {
  let current = parse(lexical).root;
  /** lstat of `current`, or undefined when it is known to be a directory without a read. */
  let stats: Stats | undefined;
  let pending = components(lexical.slice(current.length));
  // Most paths start inside a root: begin the walk there.
  const start = roots.find((root) => isInside(lexical, root.real)) ?? roots.find((root) => isInside(lexical, root.lexical));
  if (start !== undefined) {
    current = start.real;
    pending = components(lexical.slice(isInside(lexical, start.real) ? start.real.length : start.lexical.length));
  }
  let links = 0;

  while (pending.length > 0) {
    const part = pending.shift() as string;
    if (stats !== undefined && !stats.isDirectory()) return { kind: 'missing' }; // ENOTDIR
    if (part === '.') continue;
    if (part === '..') {
      current = dirname(current);
      stats = undefined;
      continue;
    }
    const next = join(current, part);
    const inRoot = roots.some((root) => isInside(next, root.real));
    const remapped = inRoot ? undefined : roots.find((root) => root.lexical === next);
    if (remapped !== undefined) {
      current = remapped.real;
      stats = undefined;
      continue;
    }
    if (!inRoot) {
      if (roots.some((root) => isProperAncestor(next, root.real) || isProperAncestor(next, root.lexical))) {
        current = next;
        stats = undefined;
        continue;
      }
      return { kind: 'outside' };
    }
    const hit = denied.find((d) => isInside(next, d.real) || isInside(next, d.lexical));
    if (hit !== undefined) return { kind: 'denied', denied: hit };
    let found: Stats;
    try {
      found = await lstat(next);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'ENOENT' || code === 'ENOTDIR' ? { kind: 'missing' } : { kind: 'unreadable' };
    }
    if (found.isSymbolicLink()) {
      if (++links > MAX_LINKS) return { kind: 'loop' };
      let target: string;
      try {
        target = await readlink(next);
      } catch {
        return { kind: 'unreadable' };
      }
      if (isAbsolute(target)) {
        current = parse(target).root;
        stats = undefined;
        pending.unshift(...components(target.slice(current.length)));
      } else {
        pending.unshift(...components(target));
      }
      continue; // relative targets resolve from the directory holding the link: `current`
    }
    current = next;
    stats = found;
  }

  // The path may end on an ancestor of a root, reached by `..` or named outright.
  if (!roots.some((root) => isInside(current, root.real))) return { kind: 'outside' };
  const hit = denied.find((d) => isInside(current, d.real) || isInside(current, d.lexical));
  if (hit !== undefined) return { kind: 'denied', denied: hit };
  if (stats === undefined) {
    try {
      stats = await lstat(current);
    } catch {
      return { kind: 'missing' };
    }
  }
  return { kind: 'found', real: current, stats };
}

function components(path: string): string[] {
  return path.split(sep === '\\' ? /[\\/]/ : '/').filter((part) => part !== '');
}

function isProperAncestor(path: string, of: string): boolean {
  return path !== of && isInside(of, path);
}
