import { beforeAll, describe, expect, it } from 'vitest';
import { compileRules, evaluateRules } from '../../src/policy/rules/compile.js';
import { argumentRulesSchema } from '../../src/policy/rules/schema.js';
import { sqlFacts } from '../../src/postgres/facts.js';
import { loadParser } from '../../src/postgres/validate.js';

beforeAll(async () => {
  await loadParser();
});

describe('SQL facts, review findings', () => {
  it('a SQL value keyword is the function it calls: a deny rule on current_user catches USER, CURRENT_ROLE and the quoted call alike', () => {
    const rules = compileRules(
      argumentRulesSchema.parse([
        { id: 'no-role-names', tool: 'db.query', effect: 'deny', when: { functions: { anyIn: ['current_user', 'session_user'] } } },
        { id: 'no-clock', tool: 'db.query', effect: 'deny', when: { functions: { anyIn: ['current_timestamp', 'now'] } } },
        { id: 'rest', tool: 'db.query', effect: 'allow', when: { functions: { in: ['count', 'lower'] } } },
      ]),
    ).get('db.query');
    const options = { allowFunctions: ['current_user', 'now'] };
    const decide = (sql: string): string => evaluateRules('db.query', rules ?? [], sqlFacts(sql, options).facts, undefined).rule;
    for (const sql of ['SELECT current_user', 'SELECT user', 'SELECT CURRENT_ROLE', 'SELECT "current_user"()', 'SELECT session_user', 'SELECT 1 WHERE session_user = $1']) {
      expect(decide(sql), sql).toBe('no-role-names');
    }
    for (const sql of ['SELECT now()', 'SELECT current_timestamp', 'SELECT CURRENT_TIMESTAMP(3)']) expect(decide(sql), sql).toBe('no-clock');
    // An allow rule listing functions no longer lets a value keyword through unlisted.
    expect(decide('SELECT current_date')).toBe('default-deny:db.query');
    expect(decide('SELECT current_catalog')).toBe('default-deny:db.query');
    expect(sqlFacts('SELECT current_catalog, localtime', options).facts.functions).toEqual(['current_database', 'localtime']);
    expect(decide('SELECT count(*)')).toBe('rest');
  });
});
