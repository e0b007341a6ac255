import { isIP } from 'node:net';
import { buildConnector } from 'undici';
import type { ResolvedAddress, Resolver } from '../../src/net/resolver.js';

/**
 * A resolver with a fixed zone: each name maps to a list of answers, one list per lookup in
 * turn (the last repeats), so a test can make the second answer differ from the first.
 */
export function fakeResolver(zone: Record<string, string[] | string[][]>): Resolver & { lookups: string[] } {
  const lookups: string[] = [];
  const seen = new Map<string, number>();
  const resolver = (hostname: string): Promise<readonly ResolvedAddress[]> => {
    lookups.push(hostname);
    const entry = zone[hostname];
    if (entry === undefined) return Promise.reject(Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }));
    const answers: string[][] = Array.isArray(entry[0]) ? (entry as string[][]) : [entry as string[]];
    const turn = seen.get(hostname) ?? 0;
    seen.set(hostname, turn + 1);
    const answer = answers[Math.min(turn, answers.length - 1)] ?? [];
    return Promise.resolve(answer.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 as const })));
  };
  return Object.assign(resolver, { lookups });
}

/**
 * A connector for tests: records every address it is asked to dial and refuses, without
 * opening anything, any address that is not loopback. It is the safety net behind the
 * network rule (tests never send traffic beyond 127.0.0.1 / ::1), whatever the code under
 * test does.
 */
export function loopbackOnlyDial(tls?: { ca: string }): buildConnector.connector & { dialled: string[] } {
  const inner = buildConnector({ timeout: 5000, ...(tls ?? {}) });
  const dialled: string[] = [];
  const dial: buildConnector.connector = (opts, callback) => {
    dialled.push(opts.hostname);
    if (opts.hostname !== '127.0.0.1' && opts.hostname !== '::1') {
      callback(new Error(`test dial refused a non-loopback address ${opts.hostname}`), null);
      return;
    }
    inner(opts, callback);
  };
  return Object.assign(dial, { dialled });
}
