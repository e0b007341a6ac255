import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createGateway, type GatewayConfig } from '../../src/index.js';
import { readAudit } from '../helpers/audit.js';
import { SECRET, trapTree } from './tree.js';

async function setup(filesystem: Partial<NonNullable<NonNullable<GatewayConfig['connectors']>['filesystem']>> = {}, perTool: Record<string, { maxBytes?: number }> = {}) {
  const tree = await trapTree();
  const gw = await createGateway({
    policy: { allowTools: ['fs.*'], perTool },
    audit: { file: tree.join('audit.jsonl') },
    connectors: { filesystem: { allowedPaths: [tree.data], deniedPaths: [tree.join('data/secrets')], ...filesystem } },
  });
  return { tree, gw };
}

describe('fs.readFile', () => {
  it('reads a part with offset and length, and base64 on request', async () => {
    const { tree, gw } = await setup();
    await using _ = tree;
    await using _gw = gw;
    expect(await gw.call('fs.readFile', { path: 'notes.txt', offset: 6, length: 3 })).toMatchObject({ content: 'not', bytesRead: 3, size: 11, truncated: false });
    expect(await gw.call('fs.readFile', { path: 'notes.txt', encoding: 'base64' })).toMatchObject({ content: Buffer.from('hello notes').toString('base64') });
  });

  it('truncates at the limit and says so, or refuses when configured to', async () => {
    const truncating = await setup({ maxFileBytes: 5 });
    await using _a = truncating.tree;
    await using _b = truncating.gw;
    expect(await truncating.gw.call('fs.readFile', { path: 'notes.txt' })).toMatchObject({ content: 'hello', bytesRead: 5, truncated: true });
    const refusing = await setup({ onTooLarge: 'refuse' }, { 'fs.readFile': { maxBytes: 4 } });
    await using _c = refusing.tree;
    await using _d = refusing.gw;
    await expect(refusing.gw.call('fs.readFile', { path: 'notes.txt' })).rejects.toMatchObject({ code: 'RESPONSE_TOO_LARGE' });
    expect(await refusing.gw.call('fs.readFile', { path: 'notes.txt', length: 4 })).toMatchObject({ content: 'hell' });
  });

  it('audits every denial with no content returned', async () => {
    const { tree, gw } = await setup();
    await using _ = tree;
    await expect(gw.call('fs.readFile', { path: 'link-out' })).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    await expect(gw.call('fs.readFile', { path: 'secrets/key.txt' })).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    await expect(gw.call('fs.readFile', { path: 'fifo' })).rejects.toMatchObject({ code: 'NOT_A_FILE' });
    await gw.close();
    const records = await readAudit(tree.join('audit.jsonl'));
    expect(records.map((r) => [r.decision, r.error_code, r.result_bytes])).toEqual([
      ['deny', 'PATH_NOT_ALLOWED', 0],
      ['deny', 'PATH_NOT_ALLOWED', 0],
      ['deny', 'NOT_A_FILE', 0],
    ]);
    expect(await readFile(tree.join('audit.jsonl'), 'utf8')).not.toContain(SECRET);
  });
});

describe('fs.listDir', () => {
  it('lists a directory sorted, with denied paths absent and symlinks shown but not followed', async () => {
    const { tree, gw } = await setup();
    await using _ = tree;
    await using _gw = gw;
    const { entries } = await gw.call<{ entries: { path: string; type: string; size?: number }[] }>('fs.listDir', { path: '.' });
    const names = entries.map((e) => e.path);
    expect(names).not.toContain('secrets');
    expect(names).toContain('secrets-backup');
    expect(entries.find((e) => e.path === 'dirlink-out')).toEqual({ path: 'dirlink-out', name: 'dirlink-out', type: 'symlink' });
    expect(entries.find((e) => e.path === 'notes.txt')).toMatchObject({ type: 'file', size: 11 });
    expect(entries.find((e) => e.path === 'fifo')).toMatchObject({ type: 'fifo' });
    expect(names).toEqual([...names].sort());
  });

  it('descends recursively within maxDepth and never through a symlink', async () => {
    const { tree, gw } = await setup();
    await using _ = tree;
    await using _gw = gw;
    const deep = await gw.call<{ entries: { path: string }[] }>('fs.listDir', { path: '.', recursive: true });
    const paths = deep.entries.map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['sub/deep.txt', 'sub/inner/x.txt', 'secrets-backup/ok.txt']));
    expect(paths.some((p) => p.startsWith('dirlink-out/') || p.startsWith('secrets/'))).toBe(false);
    const shallow = await gw.call<{ entries: { path: string }[] }>('fs.listDir', { path: '.', recursive: true, maxDepth: 2 });
    expect(shallow.entries.map((e) => e.path)).toContain('sub/deep.txt');
    expect(shallow.entries.map((e) => e.path)).not.toContain('sub/inner/x.txt');
  });

  it('stops at maxEntries and says it truncated', async () => {
    const { tree, gw } = await setup({ maxEntries: 3 });
    await using _ = tree;
    await using _gw = gw;
    const listing = await gw.call<{ entries: unknown[]; truncated: boolean }>('fs.listDir', { path: '.', recursive: true, maxEntries: 100 });
    expect(listing.entries).toHaveLength(3);
    expect(listing.truncated).toBe(true);
  });

  it('refuses to list outside the root or a denied directory', async () => {
    const { tree, gw } = await setup();
    await using _ = tree;
    await using _gw = gw;
    await expect(gw.call('fs.listDir', { path: 'dirlink-out' })).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    await expect(gw.call('fs.listDir', { path: 'secrets' })).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    await expect(gw.call('fs.listDir', { path: tree.path })).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
  });
});

describe('fs.stat', () => {
  it('describes a file and a directory with the same containment', async () => {
    const { tree, gw } = await setup();
    await using _ = tree;
    await using _gw = gw;
    expect(await gw.call('fs.stat', { path: 'notes.txt' })).toMatchObject({ type: 'file', size: 11, mode: expect.stringMatching(/^[0-7]+$/) as unknown });
    expect(await gw.call('fs.stat', { path: 'sub' })).toMatchObject({ type: 'directory' });
    await expect(gw.call('fs.stat', { path: 'link-out' })).rejects.toMatchObject({ code: 'PATH_NOT_ALLOWED' });
  });
});
