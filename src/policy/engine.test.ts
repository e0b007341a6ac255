import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPolicy, type PolicyOptions } from './engine.js';
import { compileGlob } from './glob.js';

const base: PolicyOptions = {
  defaultDeny: true,
  allowTools: [],
  denyTools: [],
  globalTimeoutMs: 30_000,
  globalMaxBytes: 1024,
  perTool: {},
  actors: {},
};

describe('policy engine', () => {
  it('denies everything by default', () => {
    const decision = createPolicy(base).decide('fs.readFile');
    expect(decision).toMatchObject({ allowed: false, rule: 'default-deny', code: 'POLICY_DENIED' });
  });

  it('allows by glob and names the rule', () => {
    const decision = createPolicy({ ...base, allowTools: ['fs.*'] }).decide('fs.readFile');
    expect(decision).toEqual({ allowed: true, reason: 'allowed by allowTools "fs.*"', rule: 'allowTools:fs.*' });
  });

  it('lets deny win over allow', () => {
    const policy = createPolicy({ ...base, allowTools: ['fs.*'], denyTools: ['fs.stat'] });
    expect(policy.decide('fs.stat')).toMatchObject({ allowed: false, rule: 'denyTools:fs.stat' });
    expect(policy.decide('fs.listDir').allowed).toBe(true);
  });

  it('never grants access through a perTool entry (the seed implementation did)', () => {
    const policy = createPolicy({ ...base, allowTools: ['fs.readFile'], perTool: { 'db.query': { timeoutMs: 60_000 } } });
    expect(policy.decide('db.query')).toMatchObject({ allowed: false, rule: 'default-deny' });
    expect(policy.limitsFor('db.query')).toEqual({ timeoutMs: 60_000, maxBytes: 1024 });
    expect(policy.limitsFor('fs.readFile')).toEqual({ timeoutMs: 30_000, maxBytes: 1024 });
  });

  it('lets actor rules narrow but never widen the global lists', () => {
    const policy = createPolicy({
      ...base,
      allowTools: ['fs.*', 'http.fetch'],
      actors: { intern: { allowTools: ['fs.*', 'db.query'], denyTools: ['fs.listDir'] } },
    });
    expect(policy.decide('fs.readFile', 'intern').allowed).toBe(true);
    expect(policy.decide('fs.listDir', 'intern')).toMatchObject({ allowed: false, rule: 'actors.denyTools:fs.listDir' });
    expect(policy.decide('http.fetch', 'intern')).toMatchObject({ allowed: false, rule: 'actors.allowTools' });
    expect(policy.decide('db.query', 'intern')).toMatchObject({ allowed: false, rule: 'default-deny' });
    expect(policy.decide('http.fetch', 'someone-else').allowed).toBe(true);
  });

  it('allows what is not denied when defaultDeny is false', () => {
    const policy = createPolicy({ ...base, defaultDeny: false, denyTools: ['db.*'] });
    expect(policy.decide('fs.readFile')).toMatchObject({ allowed: true, rule: 'default-allow' });
    expect(policy.decide('db.query').allowed).toBe(false);
  });

  it('applies per-tool and per-actor rate limits on admit, not on decide', async () => {
    let nowMs = 1_000;
    const policy = createPolicy(
      {
        ...base,
        allowTools: ['*'],
        perTool: { 'a.tool': { rateLimit: { maxCalls: 2, windowMs: 1000 } } },
        actors: { bot: { rateLimit: { maxCalls: 1, windowMs: 1000 } } },
      },
      { now: () => nowMs },
    );
    expect(policy.decide('a.tool').allowed).toBe(true);
    expect((await policy.admit('a.tool')).allowed).toBe(true);
    expect((await policy.admit('a.tool')).allowed).toBe(true);
    expect(await policy.admit('a.tool')).toMatchObject({ allowed: false, code: 'RATE_LIMITED', rule: 'perTool.rateLimit' });
    expect((await policy.admit('b.tool', 'bot')).allowed).toBe(true);
    expect(await policy.admit('b.tool', 'bot')).toMatchObject({ allowed: false, code: 'RATE_LIMITED', rule: 'actors.rateLimit' });
    nowMs += 1000;
    expect((await policy.admit('a.tool')).allowed).toBe(true);
    expect((await policy.admit('b.tool', 'bot')).allowed).toBe(true);
  });

  it('never allows a name that a deny glob matches, whatever the allow globs (property)', () => {
    const segment = fc.stringMatching(/^[a-c]{1,3}$/);
    const name = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.'));
    const glob = fc
      .array(fc.oneof(segment, fc.constant('*'), fc.constant('?')), { minLength: 1, maxLength: 4 })
      .map((parts) => parts.join('.'));
    fc.assert(
      fc.property(fc.array(glob, { maxLength: 4 }), fc.array(glob, { minLength: 1, maxLength: 4 }), name, fc.boolean(), (allow, deny, tool, defaultDeny) => {
        const policy = createPolicy({ ...base, defaultDeny, allowTools: [...allow, '*'], denyTools: deny });
        const denied = deny.some((pattern) => compileGlob(pattern).test(tool));
        expect(policy.decide(tool).allowed).toBe(!denied);
      }),
      { numRuns: 500 },
    );
  });
});
