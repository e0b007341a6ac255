import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isAbsolute, resolve, sep } from 'node:path';
import { GatewayError } from '../errors.js';
import { spellOut } from '../util/escape.js';
import { resolveConfined } from './resolve.js';
import { isInside, type Root } from './roots.js';

/** Longest path an agent may give, in UTF-16 units (Linux PATH_MAX). */
export const MAX_PATH_LENGTH = 4096;

/** Runs between validation and open; tests use it to swap a path for a symlink at that moment. */
export type BeforeOpenHook = (realPath: string) => Promise<void> | void;

/** A path that passed every check, with what was validated. */
export interface CheckedPath {
  /** As the agent gave it: the only form that appears in messages. */
  given: string;
  /** The real path (every symlink resolved), inside an allowed root. */
  real: string;
  /** `lstat` of the real path at validation: what the opened descriptor must still be. */
  stats: Stats;
}

/** Control characters have no business in a file name an agent reads; NUL truncates C strings. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}
const TRAILING_SPACE = /\s$/;

/** C1 controls, zero-width and bidi format characters, line and paragraph separators, BOM. */
const INVISIBLE = /[\u0080-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/g;

/**
 * Quotes the agent's path for a message, bounded in length: JSON-quoted, with the characters
 * a reader cannot see or that Unicode-aware tools take for a line break written as `\uXXXX`.
 */
export function shown(given: string): string {
  return spellOut(JSON.stringify(given.length > 200 ? `${given.slice(0, 200)}…` : given), INVISIBLE);
}

/** The refusal of a file with other hard links (`refuseHardLinks`): its other names may lie outside the roots. */
export function hardLinkRefusal(given: string): GatewayError {
  return new GatewayError('PATH_NOT_ALLOWED', `Path ${shown(given)} is not allowed: it has other hard links, which may lie outside the allowed paths.`, {
    data: { rule: 'refuseHardLinks' },
  });
}

function refuse(given: string, rule: string): GatewayError {
  return new GatewayError('PATH_NOT_ALLOWED', `Path ${shown(given)} is not allowed: ${rule}.`, { data: { path: given.slice(0, 200), rule } });
}

/**
 * The containment checks of the filesystem connector: lexical checks on the path as given,
 * then the same checks on its real path, then an open that does not follow a final symlink
 * and a comparison of the opened file with the validated one (device and inode).
 */
export class PathGuard {
  readonly #roots: readonly Root[];
  readonly #denied: readonly Root[];
  readonly #beforeOpen: BeforeOpenHook | undefined;

  constructor(roots: readonly Root[], denied: readonly Root[], beforeOpen?: BeforeOpenHook) {
    this.#roots = roots;
    this.#denied = denied;
    this.#beforeOpen = beforeOpen;
  }

  /** The lexical absolute path of `given`, or a refusal; no file system access. */
  lexical(given: string): string {
    if (given.length === 0) throw refuse(given, 'it is empty');
    if (given.length > MAX_PATH_LENGTH) throw refuse(given, `it is longer than ${MAX_PATH_LENGTH} characters`);
    if (hasControlCharacter(given)) throw refuse(given, 'it contains a NUL or control character');
    const parts = given.split(sep === '\\' ? /[\\/]/ : '/');
    if (parts.includes('..')) throw refuse(given, 'it contains ".."');
    if (parts.some((part) => TRAILING_SPACE.test(part))) throw refuse(given, 'a path component ends with white space');
    const first = this.#roots[0] as Root;
    const lexical = isAbsolute(given) ? resolve(given) : resolve(first.real, given);
    if (!this.#roots.some((root) => isInside(lexical, root.lexical) || isInside(lexical, root.real))) {
      throw refuse(given, 'it is outside the allowed paths');
    }
    this.#checkDenied(given, lexical);
    return lexical;
  }

  #checkDenied(given: string, path: string): void {
    for (const denied of this.#denied) {
      if (isInside(path, denied.lexical) || isInside(path, denied.real)) throw refuse(given, `it is inside the denied path "${denied.configured}"`);
    }
  }

  /** True when `realPath` (already real) may be shown in a listing. */
  isListable(realPath: string): boolean {
    return this.#roots.some((root) => isInside(realPath, root.real)) && !this.#denied.some((d) => isInside(realPath, d.real) || isInside(realPath, d.lexical));
  }

  /**
   * Resolves `given` to its real path and checks it again there: every symlink in the chain
   * is resolved, and the target must be inside an allowed root and outside every denied path.
   * The resolution never looks outside the roots or into a denied path (see
   * {@link resolveConfined}), so a path through a symlink out of the roots is refused the same
   * way whether or not its target exists: no existence oracle.
   *
   * @throws GatewayError `PATH_NOT_ALLOWED`, or `NOT_FOUND` for a path inside the roots that does not exist.
   */
  async check(given: string): Promise<CheckedPath> {
    const lexical = this.lexical(given);
    const resolved = await resolveConfined(lexical, this.#roots, this.#denied);
    switch (resolved.kind) {
      case 'found':
        return { given, real: resolved.real, stats: resolved.stats };
      case 'missing':
        throw new GatewayError('NOT_FOUND', `Path ${shown(given)} does not exist.`, { data: { path: given.slice(0, 200) } });
      case 'outside':
        throw refuse(given, 'it resolves outside the allowed paths');
      case 'denied':
        throw refuse(given, `it is inside the denied path "${resolved.denied.configured}"`);
      case 'loop':
        throw refuse(given, 'it is a symbolic link loop');
      case 'unreadable':
        throw refuse(given, 'it cannot be resolved');
    }
  }

  /**
   * Opens a checked path without following a final symlink swapped in since the check, and
   * confirms that the descriptor is the very file that was validated.
   *
   * @throws GatewayError `PATH_NOT_ALLOWED` when the file changed under us.
   */
  async open(checked: CheckedPath, directory: boolean): Promise<FileHandle> {
    await this.#beforeOpen?.(checked.real);
    // O_NONBLOCK: a FIFO swapped in after the check opens at once instead of hanging the call.
    const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY | (directory ? constants.O_DIRECTORY : 0);
    let handle: FileHandle;
    try {
      handle = await open(checked.real, flags);
    } catch {
      // One answer whatever the error: a directory swapped for a symlink after the check would
      // otherwise tell, through ENOENT against another error, what exists where it points.
      throw refuse(checked.given, 'it changed between the check and the open');
    }
    const now = await handle.stat();
    if (now.dev !== checked.stats.dev || now.ino !== checked.stats.ino) {
      await handle.close();
      throw refuse(checked.given, 'it changed between the check and the open');
    }
    return handle;
  }
}
