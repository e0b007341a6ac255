import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { canonicalJson, hashArgs, sha256Hex } from './canonical-json.js';

/** Rebuilds every object of a JSON value with its keys in a shuffled order. */
function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((item, i) => shuffleKeys(item, seed + i));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  // Deterministic Fisher-Yates driven by the seed.
  let state = seed >>> 0;
  for (let i = entries.length - 1; i > 0; i--) {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    const j = state % (i + 1);
    [entries[i], entries[j]] = [entries[j]!, entries[i]!];
  }
  return Object.fromEntries(entries.map(([k, v], i) => [k, shuffleKeys(v, seed + i + 1)]));
}

describe('canonicalJson', () => {
  it('sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}');
  });

  it('follows JSON.stringify for undefined, functions, non-finite numbers and toJSON', () => {
    expect(canonicalJson({ a: undefined, f: () => 1, n: Number.NaN, d: new Date(0), arr: [undefined] })).toBe(
      '{"arr":[null],"d":"1970-01-01T00:00:00.000Z","n":null}',
    );
  });

  it('refuses cycles and bigints', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cycle/);
    expect(() => canonicalJson({ n: 1n })).toThrow(/bigint/);
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: shared })).toBe('{"a":{"x":1},"b":{"x":1}}');
  });

  it('hashes equal content to the same digest whatever the key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
        const shuffled = shuffleKeys(value, seed);
        expect(hashArgs(shuffled)).toBe(hashArgs(value));
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('gives different digests for different content', () => {
    expect(hashArgs({ path: 'a.txt' })).not.toBe(hashArgs({ path: 'b.txt' }));
    expect(hashArgs({ path: 'a.txt' })).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('sha256Hex on node:crypto', () => {
  it('gives the digest of the pure-JS SHA-256 it replaced, for any JSON value and any string', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'grapheme' }), (value, text) => {
        expect(hashArgs(value)).toBe(bytesToHex(sha256(utf8ToBytes(canonicalJson(value)))));
        expect(sha256Hex(text)).toBe(bytesToHex(sha256(utf8ToBytes(text))));
        expect(sha256Hex(Buffer.from(text, 'utf8'))).toBe(sha256Hex(text));
      }),
    );
  });
});
