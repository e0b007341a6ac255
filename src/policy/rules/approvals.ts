import { randomUUID } from 'node:crypto';
import { GatewayError } from '../../errors.js';

/** What an approval is bound to: one call, under one policy, until a deadline. */
export interface ApprovalBinding {
  /** Unique per request; an approval is used at most once. */
  readonly id: string;
  readonly tool: string;
  readonly actor: string | null;
  /** SHA-256 of the canonical JSON of the validated arguments and the canonical facts. */
  readonly argsSha256: string;
  /** `gw.policy.version` when it was asked. */
  readonly policyVersion: string;
  readonly rule: string;
  /** After this (ms since the epoch) the approval is void. */
  readonly expiresAtMs: number;
}

/** Ahead-of-time approval: `actor` may run calls that `rule` sends to approval, `count` times until `expiresAtMs`. */
export interface Mandate {
  readonly id: string;
  readonly actor: string;
  readonly rule: string;
  /** Calls left. */
  readonly remaining: number;
  readonly expiresAtMs: number;
}

/** Options of `gw.policy.grantMandate`. */
export interface MandateGrant {
  actor: string;
  rule: string;
  /** Calls allowed, 1 or more. */
  count: number;
  /** When it lapses, in ms since the epoch. */
  expiresAtMs: number;
}

interface MutableMandate {
  id: string;
  actor: string;
  rule: string;
  remaining: number;
  expiresAtMs: number;
  /** The rule's content when granted: a changed rule voids the mandate. */
  ruleHash: string;
}

/** Mandates in memory. Consuming one is synchronous, so concurrent calls never overdraw it. */
export class MandateBook {
  readonly #mandates = new Map<string, MutableMandate>();

  grant(grant: MandateGrant, ruleHash: string | undefined, nowMs: number): Mandate {
    if (typeof grant.actor !== 'string' || grant.actor.length === 0 || grant.actor.length > 256) {
      throw new GatewayError('CONFIG_INVALID', 'A mandate needs an actor (1-256 characters).');
    }
    if (ruleHash === undefined) throw new GatewayError('CONFIG_INVALID', `A mandate names rule "${String(grant.rule).slice(0, 128)}", which is not an approve rule of the policy.`);
    if (!Number.isSafeInteger(grant.count) || grant.count < 1) throw new GatewayError('CONFIG_INVALID', 'A mandate count must be a positive integer.');
    if (!Number.isFinite(grant.expiresAtMs) || grant.expiresAtMs <= nowMs) throw new GatewayError('CONFIG_INVALID', 'A mandate must expire in the future.');
    const mandate: MutableMandate = { id: randomUUID(), actor: grant.actor, rule: grant.rule, remaining: grant.count, expiresAtMs: grant.expiresAtMs, ruleHash };
    this.#mandates.set(mandate.id, mandate);
    return snapshot(mandate);
  }

  revoke(id: string): boolean {
    return this.#mandates.delete(id);
  }

  list(): Mandate[] {
    return [...this.#mandates.values()].map(snapshot);
  }

  /** Takes one use of a live mandate of `actor` for `rule`, if any; returns its id. */
  consume(actor: string | undefined, rule: string, ruleHash: string, nowMs: number, dryRun = false): Mandate | undefined {
    if (actor === undefined) return undefined;
    for (const mandate of this.#mandates.values()) {
      if (mandate.actor !== actor || mandate.rule !== rule) continue;
      if (mandate.expiresAtMs <= nowMs || mandate.ruleHash !== ruleHash) {
        if (!dryRun) this.#mandates.delete(mandate.id);
        continue;
      }
      if (mandate.remaining <= 0) continue;
      if (!dryRun) {
        mandate.remaining -= 1;
        if (mandate.remaining === 0) this.#mandates.delete(mandate.id);
      }
      return snapshot(mandate);
    }
    return undefined;
  }
}

function snapshot(m: MutableMandate): Mandate {
  return Object.freeze({ id: m.id, actor: m.actor, rule: m.rule, remaining: m.remaining, expiresAtMs: m.expiresAtMs });
}

const SECRET_NAME = /authorization|cookie|secret|token|passw(or)?d|api[-_]?key|credential|private|macaroon|preimage|session|bearer|signature|nsec/i;

/** A deep copy with the values of secret-like names (headers and fields) replaced by `[redacted]`. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 32) return '[too deep]';
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) out[key] = SECRET_NAME.test(key) ? '[redacted]' : redactSecrets(v, depth + 1);
  return out;
}
