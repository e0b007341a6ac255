import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGateway, defineTool } from '../../src/index.js';

describe('argument rules, review findings', () => {
  it('a glob rule on an agent-chosen value answers (linear matching, no catastrophic backtracking) and the tool does not run', async () => {
    const ran: unknown[] = [];
    await using gw = await createGateway(
      { policy: { allowTools: ['acme.*'], rules: [{ id: 'tagged', tool: 'acme.tag', effect: 'allow', when: { name: { glob: '*a*a*a*a*a*a*b' } } }] } },
      { logger: { warn: () => undefined } },
    );
    gw.register(defineTool({ name: 'acme.tag', description: 'tag', inputSchema: z.strictObject({ name: z.string().max(10_000) }), execute: (args) => ran.push(args) }));
    // With the regular expression ^.*a.*a.*a.*a.*a.*a.*b$ this took hours (about n^6 steps).
    await expect(gw.call('acme.tag', { name: 'a'.repeat(5000) })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:acme.tag' } });
    await expect(gw.call('acme.tag', { name: `${'a'.repeat(5000)}b` })).resolves.toBe(1);
    expect(ran).toHaveLength(1);
  }, 10_000);
});
