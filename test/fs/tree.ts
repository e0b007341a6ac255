import { execFileSync } from 'node:child_process';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tempDir, type TempDir } from '../helpers/temp-dir.js';

export const SECRET = 'TOP-SECRET-OUTSIDE-CONTENT';
export const DENIED_SECRET = 'DENIED-SUBTREE-CONTENT';

/**
 * A tree with every trap of the filesystem tests:
 *
 *   data/                      the allowed root
 *     notes.txt, .hidden, with space.txt, ünïcödé.txt, sub/deep.txt, sub/inner/x.txt
 *     secrets/key.txt          denied
 *     secrets-backup/ok.txt    allowed: a prefix sibling of the denied path
 *     link-in -> notes.txt     a symlink that stays inside
 *     link-out -> ../outside/secret.txt, link-denied -> secrets/key.txt
 *     chain1 -> chain2 -> ../outside/secret.txt, loop1 <-> loop2
 *     dirlink-out -> ../outside
 *     fifo                     a named pipe
 *     hardlink-out             a hard link to outside/secret.txt
 *   data-evil/steal.txt        a prefix sibling of the root
 *   outside/secret.txt, outside/deep.txt
 *   rootlink -> data           a symlinked root
 */
export async function trapTree(): Promise<TempDir & { data: string }> {
  const dir = await tempDir('portcullis-fs-');
  const data = dir.join('data');
  for (const d of ['data/sub/inner', 'data/secrets', 'data/secrets-backup', 'data-evil', 'outside']) await mkdir(dir.join(d), { recursive: true });
  const files: Record<string, string> = {
    'data/notes.txt': 'hello notes',
    'data/.hidden': 'dotfile',
    'data/with space.txt': 'spaced',
    'data/ünïcödé.txt': 'unicode',
    'data/sub/deep.txt': 'deep inside',
    'data/sub/inner/x.txt': 'x',
    'data/secrets/key.txt': DENIED_SECRET,
    'data/secrets-backup/ok.txt': 'backup ok',
    'data-evil/steal.txt': SECRET,
    'outside/secret.txt': SECRET,
    'outside/deep.txt': SECRET,
  };
  for (const [path, content] of Object.entries(files)) await writeFile(dir.join(path), content);
  const links: [string, string][] = [
    ['notes.txt', 'data/link-in'],
    ['../outside/secret.txt', 'data/link-out'],
    ['secrets/key.txt', 'data/link-denied'],
    ['chain2', 'data/chain1'],
    ['../outside/secret.txt', 'data/chain2'],
    ['loop2', 'data/loop1'],
    ['loop1', 'data/loop2'],
    ['../outside', 'data/dirlink-out'],
    ['data', 'rootlink'],
  ];
  for (const [target, path] of links) await symlink(target, dir.join(path));
  execFileSync('mkfifo', [join(data, 'fifo')]);
  await link(dir.join('outside/secret.txt'), dir.join('data/hardlink-out'));
  return Object.assign(dir, { data });
}
