import { rename, symlink, unlink } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createFilesystem } from '../../src/fs/index.js';
import { DENIED_SECRET, SECRET, trapTree } from './tree.js';

async function setup(extra: { refuseHardLinks?: boolean; beforeOpen?: (real: string) => Promise<void> } = {}) {
  const tree = await trapTree();
  const files = await createFilesystem(
    { allowedPaths: [tree.data], deniedPaths: [tree.join('data/secrets')], refuseHardLinks: extra.refuseHardLinks ?? true },
    { beforeOpen: extra.beforeOpen },
  );
  return { tree, files };
}

/** A filesystem whose data/sub is swapped for a symlink to ../outside between the check and the open. */
async function setupSwappingSub() {
  const at: { tree?: Awaited<ReturnType<typeof trapTree>> } = {};
  const made = await setup({
    beforeOpen: async () => {
      if (at.tree === undefined) return;
      await rename(at.tree.join('data/sub'), at.tree.join('data/sub-moved'));
      await symlink('../outside', at.tree.join('data/sub'));
    },
  });
  at.tree = made.tree;
  return made;
}

/** Asserts a refusal that returned nothing and leaked neither content nor a real path outside. */
async function refused(promise: Promise<unknown>, code: string): Promise<void> {
  const error = (await promise.then(
    () => expect.fail('expected a refusal'),
    (e: unknown) => e,
  )) as Error & { code: string };
  expect(error.code).toBe(code);
  expect(error.message).not.toContain(SECRET);
  expect(error.message).not.toContain(DENIED_SECRET);
  expect(error.message).not.toMatch(/portcullis-fs-[^/"]*\/outside/); // the real path of the outside tree
}

describe('filesystem containment', () => {
  it('reads inside the root by relative and absolute path, dotfiles, spaces and unicode included', async () => {
    const { tree, files } = await setup();
    await using _ = tree;
    expect((await files.readFile({ path: 'notes.txt' })).content).toBe('hello notes');
    expect((await files.readFile({ path: tree.join('data/sub/deep.txt') })).content).toBe('deep inside');
    expect((await files.readFile({ path: './sub/./deep.txt' })).content).toBe('deep inside');
    expect((await files.readFile({ path: '.hidden' })).content).toBe('dotfile');
    expect((await files.readFile({ path: 'with space.txt' })).content).toBe('spaced');
    expect((await files.readFile({ path: 'ünïcödé.txt' })).content).toBe('unicode');
  });

  it('is separator-aware: a prefix sibling of the root is outside, of a denied path is inside', async () => {
    const { tree, files } = await setup();
    await using _ = tree;
    await refused(files.readFile({ path: tree.join('data-evil/steal.txt') }), 'PATH_NOT_ALLOWED');
    await refused(files.readFile({ path: 'secrets/key.txt' }), 'PATH_NOT_ALLOWED');
    await refused(files.readFile({ path: tree.join('data/secrets') }), 'PATH_NOT_ALLOWED');
    expect((await files.readFile({ path: 'secrets-backup/ok.txt' })).content).toBe('backup ok');
  });

  it('refuses "..", NUL, control characters, trailing white space and over-long paths', async () => {
    const { tree, files } = await setup();
    await using _ = tree;
    for (const path of ['../data-evil/steal.txt', 'sub/../../outside/secret.txt', 'sub/..', 'notes.txt\u0000.png', 'notes\n.txt', 'notes.txt ', 'sub /deep.txt', 'a'.repeat(5000)]) {
      await refused(files.readFile({ path }), 'PATH_NOT_ALLOWED');
    }
  });

  it('follows symlinks only to targets inside the root and outside the denied paths', async () => {
    const { tree, files } = await setup();
    await using _ = tree;
    expect((await files.readFile({ path: 'link-in' })).content).toBe('hello notes');
    for (const path of ['link-out', 'link-denied', 'chain1', 'dirlink-out/secret.txt', 'loop1']) {
      await refused(files.readFile({ path }), 'PATH_NOT_ALLOWED');
      await refused(files.stat({ path }), 'PATH_NOT_ALLOWED');
    }
  });

  it('works through a symlinked root, by either of its names', async () => {
    const tree = await trapTree();
    await using _ = tree;
    const files = await createFilesystem({ allowedPaths: [tree.join('rootlink')] });
    expect((await files.readFile({ path: 'notes.txt' })).content).toBe('hello notes');
    expect((await files.readFile({ path: tree.join('rootlink/notes.txt') })).content).toBe('hello notes');
    expect((await files.readFile({ path: tree.join('data/notes.txt') })).content).toBe('hello notes');
    await refused(files.readFile({ path: 'link-out' }), 'PATH_NOT_ALLOWED');
  });

  it('refuses a FIFO at once instead of hanging, and a directory as a file', async () => {
    const { tree, files } = await setup();
    await using _ = tree;
    await refused(files.readFile({ path: 'fifo' }), 'NOT_A_FILE');
    await refused(files.readFile({ path: 'sub' }), 'NOT_A_FILE');
    await refused(files.listDir({ path: 'notes.txt' }), 'NOT_A_DIRECTORY');
  });

  it('refuses a hard-linked file by default; with refuseHardLinks off it is read like any file (paths cannot tell)', async () => {
    const strict = await setup();
    await using _a = strict.tree;
    await refused(strict.files.readFile({ path: 'hardlink-out' }), 'PATH_NOT_ALLOWED');
    const lax = await setup({ refuseHardLinks: false });
    await using _b = lax.tree;
    expect((await lax.files.readFile({ path: 'hardlink-out' })).content).toBe(SECRET);
  });

  it("shows no metadata of a hard-linked file (its size and times are the other name's): stat refuses it, listDir leaves its size out", async () => {
    const strict = await setup();
    await using _a = strict.tree;
    await refused(strict.files.stat({ path: 'hardlink-out' }), 'PATH_NOT_ALLOWED');
    const listed = (await strict.files.listDir({ path: '.' })).entries.find((entry) => entry.name === 'hardlink-out');
    expect(listed).toMatchObject({ type: 'file' });
    expect(listed?.size).toBeUndefined();
    expect((await strict.files.listDir({ path: '.' })).entries.find((entry) => entry.name === 'notes.txt')?.size).toBe(11);
    const lax = await setup({ refuseHardLinks: false });
    await using _b = lax.tree;
    expect((await lax.files.stat({ path: 'hardlink-out' })).size).toBe(SECRET.length);
  });

  it('refuses glob characters in deniedPaths (literal paths; *.env would silently match nothing)', async () => {
    await using tree = await trapTree();
    await expect(createFilesystem({ allowedPaths: [tree.data], deniedPaths: [tree.join('data/*.env')] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('refuses a directory swapped for a symlink between the check and the open', async () => {
    const { tree: t, files } = await setupSwappingSub();
    await using _ = t;
    await refused(files.readFile({ path: 'sub/deep.txt' }), 'PATH_NOT_ALLOWED');
  });

  it('answers a swap between the check and the open identically whether the target exists outside or not (no oracle)', async () => {
    const answers: string[] = [];
    for (const path of ['sub/deep.txt', 'sub/inner/x.txt']) {
      // outside/deep.txt exists; outside/inner/x.txt does not.
      const { tree: t, files } = await setupSwappingSub();
      await using _ = t;
      const error = (await files.readFile({ path }).catch((e: unknown) => e)) as { code: string; message: string };
      expect(error.code).toBe('PATH_NOT_ALLOWED');
      answers.push(error.message.replace(path, '<path>'));
    }
    expect(answers[0]).toBe(answers[1]);
  });

  it('refuses a file swapped for a symlink between the check and the open (O_NOFOLLOW)', async () => {
    const at: { tree?: Awaited<ReturnType<typeof trapTree>> } = {};
    const { tree: t, files } = await setup({
      beforeOpen: async () => {
        if (at.tree === undefined) return;
        await unlink(at.tree.join('data/notes.txt'));
        await symlink('../outside/secret.txt', at.tree.join('data/notes.txt'));
      },
    });
    at.tree = t;
    await using _ = t;
    await refused(files.readFile({ path: 'notes.txt' }), 'PATH_NOT_ALLOWED');
  });

  it('refuses a missing root at start-up', async () => {
    const tree = await trapTree();
    await using _ = tree;
    await expect(createFilesystem({ allowedPaths: [tree.join('nope')] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(createFilesystem({ allowedPaths: [tree.join('data/notes.txt')] })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('says NOT_FOUND for a missing file inside the root', async () => {
    const { tree, files } = await setup();
    await using _ = tree;
    await expect(files.readFile({ path: 'missing.txt' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
