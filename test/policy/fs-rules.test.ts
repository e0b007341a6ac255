import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/index.js';
import { readAudit } from '../helpers/audit.js';
import { tempDir, type TempDir } from '../helpers/temp-dir.js';

// A tree: data/reports/{a.csv,b.txt}, data/secret/key.csv, data/link -> secret (symlink).
async function tree(dir: TempDir): Promise<void> {
  await mkdir(dir.join('data/reports'), { recursive: true });
  await mkdir(dir.join('data/secret'), { recursive: true });
  await writeFile(dir.join('data/reports/a.csv'), 'x,y\n1,2\n');
  await writeFile(dir.join('data/reports/b.txt'), 'hello');
  await writeFile(dir.join('data/secret/key.csv'), 'TOP-SECRET');
  await symlink(dir.join('data/secret'), dir.join('data/reports/link'));
}

async function gateway(dir: TempDir, opened: string[], beforeOpen?: (real: string) => Promise<void>, approveCall?: () => Promise<boolean>): Promise<Gateway> {
  return createGateway(
    {
      policy: {
        allowTools: ['fs.*'],
        rules: [
          { id: 'reports-csv', tool: 'fs.readFile', actors: ['reporter'], effect: 'allow', when: { path: { under: dir.join('data/reports') }, extension: { in: ['.csv'] }, size: { max: 1000 } } },
          { id: 'secret-ask', tool: 'fs.readFile', effect: 'approve', when: { path: { under: dir.join('data/secret') } } },
          { id: 'list-reports', tool: 'fs.listDir', effect: 'allow', when: { path: { under: dir.join('data/reports'), notUnder: dir.join('data/secret') } } },
        ],
      },
      audit: { file: dir.join('audit.jsonl') },
      connectors: { filesystem: { allowedPaths: [dir.join('data')] } },
    },
    {
      logger: { warn: () => undefined },
      ...(approveCall && { approveCall }),
      fsHooks: {
        beforeOpen: async (real) => {
          opened.push(real);
          await beforeOpen?.(real);
        },
      },
    },
  );
}

describe('argument rules on files', () => {
  it('allows a path under the rule directory and decides on the real path', async () => {
    await using dir = await tempDir();
    await tree(dir);
    const opened: string[] = [];
    await using gw = await gateway(dir, opened);
    const result = await gw.call<{ content: string }>('fs.readFile', { path: 'reports/./a.csv' }, { actor: 'reporter' });
    expect(result.content).toBe('x,y\n1,2\n');
    expect(opened).toEqual([dir.join('data/reports/a.csv')]);
  });

  it('refuses a symlink out of the rule directory, names the rule in the audit, and opens nothing', async () => {
    await using dir = await tempDir();
    await tree(dir);
    const opened: string[] = [];
    const gw = await gateway(dir, opened);
    // reports/link/key.csv is lexically under reports, really under secret: the approve rule, no approver.
    await expect(gw.call('fs.readFile', { path: 'reports/link/key.csv' }, { actor: 'reporter' })).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', data: { rule: 'secret-ask' } });
    await expect(gw.call('fs.readFile', { path: 'reports/b.txt' }, { actor: 'reporter' })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:fs.readFile' } });
    expect(opened).toEqual([]);
    await gw.close();
    const records = await readAudit(dir.join('audit.jsonl'));
    expect(records.map((r) => [r.decision, r.error_code])).toEqual([
      ['deny', 'APPROVAL_REQUIRED'],
      ['deny', 'POLICY_DENIED'],
    ]);
    expect(records[0]?.reason).toContain('secret-ask');
    expect(records[1]?.reason).toContain('default-deny:fs.readFile');
  });

  it('no spelling of a path escapes the rule (dot segments, slashes, symlinks)', async () => {
    await using dir = await tempDir();
    await tree(dir);
    const opened: string[] = [];
    await using gw = await gateway(dir, opened);
    const piece = fc.constantFrom('.', 'reports', 'reports/.', 'reports//', 'reports/link', 'reports/link/.', 'secret', './secret');
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 4 }), async (pieces) => {
        const path = `${pieces.join('/')}/key.csv`;
        opened.length = 0;
        const outcome = await gw.call('fs.readFile', { path }, { actor: 'reporter' }).then(
          () => 'read',
          (e: { code: string }) => e.code,
        );
        // key.csv exists only in secret/: every spelling that reaches it must hit the approve rule.
        expect(outcome).not.toBe('read');
        expect(opened).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  it('a symlink swapped after the rule check cannot move the read outside the rule directory', async () => {
    await using dir = await tempDir();
    await tree(dir);
    const opened: string[] = [];
    // Between the check and the open, reports/a.csv becomes a symlink to the secret.
    await using gw = await gateway(dir, opened, async (real) => {
      if (real.endsWith('a.csv')) {
        await rename(dir.join('data/reports/a.csv'), dir.join('data/reports/a.old'));
        await symlink(dir.join('data/secret/key.csv'), dir.join('data/reports/a.csv'));
      }
    });
    const error = await gw.call('fs.readFile', { path: 'reports/a.csv' }, { actor: 'reporter' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'PATH_NOT_ALLOWED' });
    expect(JSON.stringify(error)).not.toContain('TOP-SECRET');
  });

  it('explain says what would happen, with the canonical facts, and opens no file', async () => {
    await using dir = await tempDir();
    await tree(dir);
    const opened: string[] = [];
    await using gw = await gateway(dir, opened);
    const yes = await gw.policy.explain('fs.readFile', { path: 'reports/../reports/a.csv' }, { actor: 'reporter' });
    expect(yes).toMatchObject({ outcome: 'deny', code: 'PATH_NOT_ALLOWED' }); // ".." is refused by the guard itself
    const ok = await gw.policy.explain('fs.readFile', { path: 'reports/a.csv' }, { actor: 'reporter' });
    expect(ok).toMatchObject({ outcome: 'allow', rule: 'reports-csv', facts: { path: dir.join('data/reports/a.csv'), extension: '.csv', size: 8 } });
    const ask = await gw.policy.explain('fs.readFile', { path: 'reports/link/key.csv' }, { actor: 'reporter' });
    expect(ask).toMatchObject({ outcome: 'approve', code: 'APPROVAL_REQUIRED', rule: 'secret-ask', facts: { path: dir.join('data/secret/key.csv') } });
    expect(opened).toEqual([]);
  });

  it('a listing is decided on the real directory', async () => {
    await using dir = await tempDir();
    await tree(dir);
    const opened: string[] = [];
    await using gw = await gateway(dir, opened);
    await expect(gw.call('fs.listDir', { path: 'reports/link' })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:fs.listDir' } });
    expect(opened).toEqual([]);
    const listed = await gw.call<{ entries: { name: string }[] }>('fs.listDir', { path: 'reports' });
    expect(listed.entries.map((e) => e.name).sort()).toEqual(['a.csv', 'b.txt', 'link']);
  });

  it('an approval is void when the file changes while a person looks, and nothing is read', async () => {
    await using dir = await tempDir();
    await tree(dir);
    const opened: string[] = [];
    let approvals = 0;
    await using gw = await gateway(dir, opened, undefined, async () => {
      approvals += 1;
      if (approvals === 1) await writeFile(dir.join('data/secret/key.csv'), 'TOP-SECRET, and more of it');
      return true;
    });
    const error = await gw.call('fs.readFile', { path: 'secret/key.csv' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'APPROVAL_REQUIRED', message: expect.stringContaining('changed') as string });
    expect(opened).toEqual([]);
    // Unchanged during the second approval: read.
    await expect(gw.call<{ content: string }>('fs.readFile', { path: 'secret/key.csv' })).resolves.toMatchObject({ content: 'TOP-SECRET, and more of it' });
    expect(opened).toEqual([dir.join('data/secret/key.csv')]);
  });

  it('rule directories are real paths: a notUnder spelled through a symlink still covers its target', async () => {
    await using dir = await tempDir();
    await tree(dir);
    const opened: string[] = [];
    await using gw = await createGateway(
      {
        policy: { allowTools: ['fs.*'], rules: [{ id: 'not-secret', tool: 'fs.readFile', effect: 'allow', when: { path: { under: dir.join('data'), notUnder: dir.join('data/reports/link') } } }] },
        connectors: { filesystem: { allowedPaths: [dir.join('data')] } },
      },
      { logger: { warn: () => undefined }, fsHooks: { beforeOpen: (real) => void opened.push(real) } },
    );
    await expect(gw.call('fs.readFile', { path: 'secret/key.csv' })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:fs.readFile' } });
    expect(opened).toEqual([]);
    await expect(gw.call('fs.readFile', { path: 'reports/b.txt' })).resolves.toMatchObject({ content: 'hello' });
  });

  it('refuses a relative rule directory and an all-elements deny on SQL list facts at config time', async () => {
    await expect(createGateway({ policy: { rules: [{ id: 'r', tool: 'fs.readFile', effect: 'allow', when: { path: { under: 'data' } } }] } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      data: { issues: [expect.objectContaining({ message: expect.stringContaining('absolute') as string })] },
    });
    await expect(createGateway({ policy: { rules: [{ id: 'r', tool: 'db.query', effect: 'deny', when: { tables: { in: ['public.secret'] } } }] } })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      data: { issues: [expect.objectContaining({ message: expect.stringContaining('anyIn') as string })] },
    });
  });
});
