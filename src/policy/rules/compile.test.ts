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
