import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createFilesystem, type Filesystem } from '../../src/fs/index.js';
import { createGateway } from '../../src/index.js';
import { readAudit } from '../helpers/audit.js';
import { DENIED_SECRET, SECRET, trapTree } from './tree.js';

type Tree = Awaited<ReturnType<typeof trapTree>>;

/** What the agent sees of a call: the result, or the error's code, message and data. */
async function answer(promise: Promise<unknown>): Promise<string> {
  try {
    return JSON.stringify({ result: await promise });
  } catch (error) {
    const e = error as { code: string; message: string; data?: unknown };
    return JSON.stringify({ code: e.code, message: e.message, data: e.data });
  }
}

const TOOLS: [string, (files: Filesystem, path: string) => Promise<unknown>][] = [
  ['readFile', (files, path) => files.readFile({ path })],
  ['listDir', (files, path) => files.listDir({ path })],
  ['listDir recursive', (files, path) => files.listDir({ path, recursive: true })],
  ['stat', (files, path) => files.stat({ path })],
];

/** The states a probed target outside the roots (or inside a denied path) is put in, in turn. */
const STATES: [string, (path: string) => Promise<void>][] = [
  ['absent', () => Promise.resolve()],
  ['file', (path) => writeFile(path, SECRET)],
  ['directory', (path) => mkdir(path)],
  ['self-loop symlink', (path) => symlink(path, path)],
  ['dangling symlink', (path) => symlink('/nonexistent/portcullis', path)],
  ['fifo', (path) => Promise.resolve(void execFileSync('mkfifo', [path]))],
];

async function setup(): Promise<{ tree: Tree; files: Filesystem }> {
  const tree = await trapTree();
  await symlink('secrets', tree.join('data/dirlink-denied'));
  await symlink(tree.join('outside'), tree.join('data/abslink-out'));
  await symlink('../outside/probe', tree.join('data/dangling-out'));
  await symlink('sub/../../outside/probe', tree.join('data/dotdot-out'));
  const files = await createFilesystem({ allowedPaths: [tree.data], deniedPaths: [tree.join('data/secrets')] });
  return { tree, files };
}

/** Agent paths and the file each one reaches, outside the root or inside the denied path. */
const PROBES: [string, string][] = [
  ['dirlink-out/probe', 'outside/probe'],
  ['dirlink-out/probe/below', 'outside/probe'],
  ['abslink-out/probe', 'outside/probe'],
  ['dangling-out', 'outside/probe'],
  ['dotdot-out', 'outside/probe'],
  ['dirlink-denied/probe', 'data/secrets/probe'],
  ['dirlink-denied/probe/below', 'data/secrets/probe'],
];

describe('filesystem existence oracle', () => {
  it('answers byte-identically whatever lies at a target outside the roots or inside a denied path', async () => {
    const { tree, files } = await setup();
    await using _ = tree;
    for (const [given, target] of PROBES) {
      for (const [tool, run] of TOOLS) {
        const seen = new Map<string, string>();
        for (const [state, make] of STATES) {
          await rm(tree.join(target), { recursive: true, force: true });
          await make(tree.join(target));
          seen.set(state, await answer(run(files, given)));
        }
        const answers = [...seen.values()];
        expect(JSON.parse(answers[0] as string), `${tool} ${given}`).toMatchObject({ code: 'PATH_NOT_ALLOWED' });
        for (const [state, text] of seen) expect(text, `${tool} ${given} when the target is ${state}`).toBe(answers[0]);
        expect(answers.join('')).not.toContain(SECRET);
        expect(answers.join('')).not.toContain(DENIED_SECRET);
      }
    }
  });

  it('still tells a missing file inside the roots from a present one', async () => {
    const { tree, files } = await setup();
    await using _ = tree;
    expect(JSON.parse(await answer(files.stat({ path: 'sub/nope' })))).toMatchObject({ code: 'NOT_FOUND' });
    expect(JSON.parse(await answer(files.stat({ path: 'notes.txt/below' })))).toMatchObject({ code: 'NOT_FOUND' });
    await symlink('sub/../notes.txt', tree.join('data/dotdot-in'));
    expect(await files.readFile({ path: 'dotdot-in' })).toMatchObject({ content: 'hello notes' });
    await symlink(tree.join('data/notes.txt'), tree.join('data/abslink-in'));
    expect(await files.readFile({ path: 'abslink-in' })).toMatchObject({ content: 'hello notes' });
  });

  it('reads nothing outside: the atime of the outside file and directory does not move (the same check sees an inside read)', async () => {
    const { tree, files } = await setup();
    await using _ = tree;
    await writeFile(tree.join('outside/probe'), SECRET);
    const old = new Date('2001-01-01T00:00:00Z');
    for (const path of ['outside/probe', 'outside', 'data/notes.txt']) await utimes(tree.join(path), old, old);
    for (const given of ['dirlink-out/probe', 'abslink-out/probe', 'dangling-out', 'dotdot-out', 'dirlink-out']) {
      for (const [, run] of TOOLS) await answer(run(files, given));
    }
    expect(statSync(tree.join('outside/probe')).atimeMs).toBe(old.getTime());
    expect(statSync(tree.join('outside')).atimeMs).toBe(old.getTime());
    // The control: a read inside the root does move its atime (relatime updates an atime older than a day).
    await files.readFile({ path: 'notes.txt' });
    expect(statSync(tree.join('data/notes.txt')).atimeMs).toBeGreaterThan(old.getTime());
  });

  it('writes the same audit reason whether the outside target exists or not', async () => {
    const tree = await trapTree();
    await using _ = tree;
    const gw = await createGateway({
      policy: { allowTools: ['fs.*'] },
      audit: { file: tree.join('audit.jsonl') },
      connectors: { filesystem: { allowedPaths: [tree.data] } },
    });
    await expect(gw.call('fs.stat', { path: 'dirlink-out/probe' })).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    await writeFile(tree.join('outside/probe'), SECRET);
    await expect(gw.call('fs.stat', { path: 'dirlink-out/probe' })).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    await gw.close();
    const [a, b] = await readAudit(tree.join('audit.jsonl'));
    expect(a?.reason).toBe(b?.reason);
    expect(a?.error_code).toBe(b?.error_code);
  });
});
