import { describe, expect, it } from 'vitest';
import { compileRules, evaluateRules } from './compile.js';
import { argumentRulesSchema, type ArgumentRuleInput } from './schema.js';

function decide(rules: ArgumentRuleInput[], facts: Record<string, unknown>, actor?: string): { effect: string; rule: string } {
  const compiled = compileRules(argumentRulesSchema.parse(rules)).get('t.x') ?? [];
  const { effect, rule } = evaluateRules('t.x', compiled, facts as never, actor);
  return { effect, rule };
}

describe('argument rule semantics', () => {
  it('the first matching rule decides; none is default deny', () => {
    const rules: ArgumentRuleInput[] = [
      { id: 'deny-b', tool: 't.x', effect: 'deny', when: { name: { equals: 'b' } } },
      { id: 'allow-all', tool: 't.x', effect: 'allow', when: { name: { glob: '?' } } },
    ];
    expect(decide(rules, { name: 'b' })).toEqual({ effect: 'deny', rule: 'deny-b' });
    expect(decide(rules, { name: 'a' })).toEqual({ effect: 'allow', rule: 'allow-all' });
    expect(decide(rules, { name: 'ab' })).toEqual({ effect: 'deny', rule: 'default-deny:t.x' });
  });

  it('actor rules apply only to their actors; a call without an actor matches none of them', () => {
    const rules: ArgumentRuleInput[] = [{ id: 'ops', tool: 't.x', actors: ['ops'], effect: 'allow' }];
    expect(decide(rules, {}, 'ops').rule).toBe('ops');
    expect(decide(rules, {}, 'dev').rule).toBe('default-deny:t.x');
    expect(decide(rules, {}).rule).toBe('default-deny:t.x');
  });

  it('list facts: in needs every element, anyIn one, notIn none', () => {
    const allow: ArgumentRuleInput[] = [{ id: 'a', tool: 't.x', effect: 'allow', when: { tables: { in: ['p.a', 'p.b'] } } }];
    expect(decide(allow, { tables: ['p.a', 'p.b'] }).effect).toBe('allow');
    expect(decide(allow, { tables: ['p.a', 'p.secret'] }).effect).toBe('deny');
    const deny: ArgumentRuleInput[] = [
      { id: 'd', tool: 't.x', effect: 'deny', when: { tables: { anyIn: ['p.secret'] } } },
      { id: 'n', tool: 't.x', effect: 'allow', when: { tables: { notIn: ['p.secret'] } } },
    ];
    expect(decide(deny, { tables: ['p.a', 'p.secret'] }).rule).toBe('d');
    expect(decide(deny, { tables: ['p.a'] }).rule).toBe('n');
  });

  it('prefix is segment-aware, under is component-wise, ranges are numeric only', () => {
    const api: ArgumentRuleInput[] = [{ id: 'api', tool: 't.x', effect: 'allow', when: { path: { prefix: '/api' } } }];
    const dir: ArgumentRuleInput[] = [{ id: 'dir', tool: 't.x', effect: 'allow', when: { file: { under: '/srv/data' } } }];
    const num: ArgumentRuleInput[] = [{ id: 'num', tool: 't.x', effect: 'allow', when: { n: { min: 1, max: 9 } } }];
    expect(decide(api, { path: '/api/x' }).rule).toBe('api');
    expect(decide(api, { path: '/apix' }).rule).toBe('default-deny:t.x');
    expect(decide(dir, { file: '/srv/data/a' }).rule).toBe('dir');
    expect(decide(dir, { file: '/srv/database' }).rule).toBe('default-deny:t.x');
    expect(decide(num, { n: 5 }).rule).toBe('num');
    expect(decide(num, { n: '5' }).rule).toBe('default-deny:t.x');
  });

  it('a missing fact, an object, or a value too long for a pattern refuses, naming the rule', () => {
    const rules: ArgumentRuleInput[] = [{ id: 're', tool: 't.x', effect: 'deny', when: { 'q.name': { regex: 'admin.*' } } }, { id: 'ok', tool: 't.x', effect: 'allow' }];
    expect(decide(rules, { q: { name: 'admin-1' } })).toEqual({ effect: 'deny', rule: 're' });
    expect(decide(rules, { q: { name: 'user' } })).toEqual({ effect: 'allow', rule: 'ok' });
    expect(decide(rules, { q: {} })).toEqual({ effect: 'deny', rule: 're' });
    expect(decide(rules, { q: { name: { nested: 1 } } })).toEqual({ effect: 'deny', rule: 're' });
    expect(decide(rules, { q: { name: 'x'.repeat(5000) } })).toEqual({ effect: 'deny', rule: 're' });
  });
});

describe('facts known only as pay.fetch runs (what its 402 asks)', () => {
  const pay = (rules: ArgumentRuleInput[], facts: Record<string, unknown>): { effect: string; rule: string; reason: string } => {
    const compiled = compileRules(argumentRulesSchema.parse(rules)).get('pay.fetch') ?? [];
    const { effect, rule, reason } = evaluateRules('pay.fetch', compiled, facts as never, undefined);
    return { effect, rule, reason };
  };
  const rules: ArgumentRuleInput[] = [
    { id: 'no-ecash', tool: 'pay.fetch', effect: 'deny', when: { paymentMethod: { equals: 'cashu' } } },
    { id: 'ask-big', tool: 'pay.fetch', effect: 'approve', when: { amountSats: { min: 100 } } },
    { id: 'small', tool: 'pay.fetch', effect: 'allow', when: { amountSats: { max: 50 }, host: { equals: 'api.test' } } },
  ];

  it('missing at the call: deny and approve rules do not match yet, an allow rule passes and says so', () => {
    const verdict = pay(rules, { host: 'api.test' });
    expect(verdict).toMatchObject({ effect: 'allow', rule: 'small' });
    expect(verdict.reason).toContain('"amountSats" is known');
    // Its other conditions still decide now.
    expect(pay(rules, { host: 'evil.test' }).rule).toBe('default-deny:pay.fetch');
  });

  it('known at the 402: every rule decides on them', () => {
    expect(pay(rules, { host: 'api.test', amountSats: 10, paymentMethod: 'cashu', paymentScheme: 'cashu' }).rule).toBe('no-ecash');
    expect(pay(rules, { host: 'api.test', amountSats: 100, paymentMethod: 'lightning', paymentScheme: 'L402' }).rule).toBe('ask-big');
    expect(pay(rules, { host: 'api.test', amountSats: 51, paymentMethod: 'lightning', paymentScheme: 'L402' }).rule).toBe('default-deny:pay.fetch');
    expect(pay(rules, { host: 'api.test', amountSats: 50, paymentMethod: 'lightning', paymentScheme: 'L402' }).rule).toBe('small');
    // A present but unusable value is no verdict, not "unknown yet".
    expect(pay(rules, { host: 'api.test', amountSats: null, paymentMethod: 'lightning' }).effect).toBe('deny');
  });

  it('only pay.fetch defers them: on another tool a missing amountSats is no verdict', () => {
    expect(decide([{ id: 'small', tool: 't.x', effect: 'allow', when: { amountSats: { max: 50 } } }], {})).toEqual({ effect: 'deny', rule: 'small' });
  });

  it('payment facts are written as the payer spells them, and not on the request facts', () => {
    const problems = (when: Record<string, unknown>): string => {
      const parsed = argumentRulesSchema.safeParse([{ id: 'r', tool: 'pay.fetch', effect: 'deny', when }]);
      return parsed.success ? '' : parsed.error.issues.map((i) => i.message).join('; ');
    };
    expect(problems({ paymentScheme: { in: ['L402', 'LSAT', 'Payment', 'cashu'] }, paymentMethod: { in: ['lightning', 'cashu'] } })).toBe('');
    expect(problems({ paymentScheme: { equals: 'payment' } })).toContain('write "Payment"');
    expect(problems({ paymentScheme: { equals: 'bolt12' } })).toContain('not how the paymentScheme fact is spelled');
    expect(problems({ paymentMethod: { notIn: ['LIGHTNING'] } })).toContain('write "lightning"');
    expect(problems({ paymentMethod: { glob: 'c*' } })).toContain('not a glob');
    expect(problems({ scheme: { equals: 'L402' } })).toContain('paymentScheme: "L402"');
    expect(problems({ method: { equals: 'Cashu' } })).toContain('paymentMethod: "cashu"');
    expect(problems({ scheme: { equals: 'https' }, method: { equals: 'GET' } })).toBe('');
  });
});
