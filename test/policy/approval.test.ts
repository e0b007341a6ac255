import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGateway, defineTool, type Gateway } from '../../src/index.js';
import type { CallApprovalRequest, CallApprover } from '../../src/policy/rules/enforce.js';
import type { ApprovalBinding } from '../../src/policy/rules/approvals.js';

interface Harness {
  gw: Gateway;
  ran: unknown[];
  asked: CallApprovalRequest[];
  clock: { ms: number };
}

async function harness(approveCall?: (h: Harness, request: CallApprovalRequest) => Promise<boolean | ApprovalBinding>): Promise<Harness> {
  const h = { ran: [], asked: [], clock: { ms: 1_000_000 } } as unknown as Harness;
  const approver: CallApprover | undefined =
    approveCall === undefined
      ? undefined
      : (request) => {
          h.asked.push(request);
          return approveCall(h, request);
        };
  h.gw = await createGateway(
    {
      policy: {
        allowTools: ['acme.*'],
        rules: [
          { id: 'small-refund', tool: 'acme.refund', effect: 'allow', when: { amount: { max: 100 }, currency: { in: ['EUR'] } } },
          { id: 'big-refund', tool: 'acme.refund', effect: 'approve', when: { amount: { min: 101, max: 10_000 } }, approvalTimeoutMs: 500 },
          { id: 'no-vip', tool: 'acme.refund', effect: 'deny', when: { customer: { regex: 'vip-[0-9]+' } } },
        ],
      },
    },
    { now: () => h.clock.ms, logger: { warn: () => undefined }, ...(approver && { approveCall: approver }) },
  );
  h.gw.register(
    defineTool({
      name: 'acme.refund',
      description: 'refund',
      inputSchema: z.strictObject({ amount: z.number(), currency: z.string(), customer: z.string(), apiToken: z.string().optional() }),
      execute: (args) => {
        h.ran.push(args);
        return { ok: true };
      },
    }),
  );
  return h;
}

const big = { amount: 500, currency: 'EUR', customer: 'c-1', apiToken: 'tok-SECRET' };

describe('approval of tool calls', () => {
  it('runs a call a person approved, showing canonical args with secrets redacted', async () => {
    const h = await harness(() => Promise.resolve(true));
    await expect(h.gw.call('acme.refund', big, { actor: 'a1' })).resolves.toEqual({ ok: true });
    expect(h.ran).toHaveLength(1);
    expect(h.asked[0]).toMatchObject({ tool: 'acme.refund', actor: 'a1', rule: { id: 'big-refund' }, args: { apiToken: '[redacted]', amount: 500 } });
    expect(JSON.stringify(h.asked[0])).not.toContain('tok-SECRET');
    await h.gw.close();
  });

  it('a no is APPROVAL_DENIED, no approver or a timeout is APPROVAL_REQUIRED, and nothing runs', async () => {
    const no = await harness(() => Promise.resolve(false));
    await expect(no.gw.call('acme.refund', big)).rejects.toMatchObject({ code: 'APPROVAL_DENIED', data: { rule: 'big-refund' } });
    const none = await harness();
    await expect(none.gw.call('acme.refund', big)).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED' });
    const slow = await harness(() => new Promise(() => undefined));
    await expect(slow.gw.call('acme.refund', big)).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', message: expect.stringContaining('within 500 ms') as string });
    expect([...no.ran, ...none.ran, ...slow.ran]).toEqual([]);
    await Promise.all([no.gw.close(), none.gw.close(), slow.gw.close()]);
  });

  it('an approval of other arguments, a reused one, an expired one and one under a changed policy all refuse', async () => {
    let first: ApprovalBinding | undefined;
    let mode = 'first';
    const h = await harness((harness, request) => {
      if (mode === 'first') return Promise.resolve((first = request.binding));
      if (mode === 'other-args' || mode === 'reuse') return Promise.resolve(first as ApprovalBinding);
      if (mode === 'expired') harness.clock.ms += 10_000;
      if (mode === 'policy') harness.gw.policy.setRules([...harness.gw.policy.rules(), { id: 'extra', tool: 'acme.other', effect: 'allow' }]);
      return Promise.resolve(true);
    });
    await h.gw.call('acme.refund', big);
    expect(h.ran).toHaveLength(1);
    mode = 'other-args';
    await expect(h.gw.call('acme.refund', { ...big, amount: 501 })).rejects.toMatchObject({ code: 'APPROVAL_DENIED' });
    mode = 'reuse';
    await expect(h.gw.call('acme.refund', big)).rejects.toMatchObject({ code: 'APPROVAL_DENIED', message: expect.stringContaining('already used') as string });
    mode = 'expired';
    await expect(h.gw.call('acme.refund', big)).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', message: expect.stringContaining('expired') as string });
    mode = 'policy';
    await expect(h.gw.call('acme.refund', big)).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED', message: expect.stringContaining('policy changed') as string });
    expect(h.ran).toHaveLength(1);
    await h.gw.close();
  });

  it('a mandate runs exactly N approved calls under concurrency, then asks again', async () => {
    const h = await harness();
    const mandate = h.gw.policy.grantMandate({ actor: 'bot', rule: 'big-refund', count: 3, expiresAtMs: h.clock.ms + 60_000 });
    expect(mandate.remaining).toBe(3);
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => h.gw.call('acme.refund', big, { actor: 'bot' })));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(h.ran).toHaveLength(3);
    expect(await h.gw.policy.explain('acme.refund', big, { actor: 'bot' })).toMatchObject({ outcome: 'approve', code: 'APPROVAL_REQUIRED' });
    // Another actor and an expired mandate do not count.
    h.gw.policy.grantMandate({ actor: 'bot', rule: 'big-refund', count: 5, expiresAtMs: h.clock.ms + 1000 });
    await expect(h.gw.call('acme.refund', big, { actor: 'other' })).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED' });
    h.clock.ms += 2000;
    await expect(h.gw.call('acme.refund', big, { actor: 'bot' })).rejects.toMatchObject({ code: 'APPROVAL_REQUIRED' });
    expect(h.ran).toHaveLength(3);
    await h.gw.close();
  });

  it('host-tool rules: ranges, sets, bounded regex, default deny, and explain without running', async () => {
    const h = await harness();
    await expect(h.gw.call('acme.refund', { amount: 50, currency: 'EUR', customer: 'c' })).resolves.toEqual({ ok: true });
    await expect(h.gw.call('acme.refund', { amount: 50, currency: 'USD', customer: 'c' })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'default-deny:acme.refund' } });
    await expect(h.gw.call('acme.refund', { amount: 20_000, currency: 'EUR', customer: 'vip-12' })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'no-vip' } });
    // A value too long for a pattern is no verdict: the rule refuses rather than being skipped.
    await expect(h.gw.call('acme.refund', { amount: 20_000, currency: 'EUR', customer: 'x'.repeat(5000) })).rejects.toMatchObject({ code: 'POLICY_DENIED', data: { rule: 'no-vip' } });
    expect(await h.gw.policy.explain('acme.refund', { amount: 50, currency: 'EUR', customer: 'c' })).toMatchObject({ outcome: 'allow', rule: 'small-refund' });
    expect(h.ran).toHaveLength(1);
    await h.gw.close();
  });

  it('a bad rule is CONFIG_INVALID with issues', async () => {
    const bad = createGateway({ policy: { rules: [{ id: 'r', tool: 'acme.x', effect: 'allow', when: { name: { regex: '(a+)+\\1' } } }] } }, { logger: { warn: () => undefined } });
    await expect(bad).rejects.toMatchObject({ code: 'CONFIG_INVALID', data: { issues: [expect.objectContaining({ message: expect.stringContaining('unsupported pattern') as string })] } });
  });

  it('a caller abort or the gateway closing while a person looks ends the call, and nothing runs', async () => {
    const h = await harness(() => new Promise(() => undefined));
    const controller = new AbortController();
    const aborted = h.gw.call('acme.refund', big, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' });
    const closing = h.gw.call('acme.refund', big);
    setTimeout(() => void h.gw.close(), 20);
    await expect(closing).rejects.toMatchObject({ code: 'ABORTED' });
    expect(h.ran).toEqual([]);
  });
});
