import { describe, expect, it } from 'vitest';
import type { CredentialBackend, StoredRecord } from './credential-store.js';
import { createTokenStore, type Book } from './token-store.js';

/** A backend in memory that counts writes and can be told to fail them (the token store is under test). */
function memoryBackend() {
  const records = new Map<string, StoredRecord>();
  const state = { puts: 0, failPuts: false };
  const backend: CredentialBackend = {
    put: async (id, record) => {
      await new Promise((resolve) => setTimeout(resolve, 5)); // a durable write takes a while
      if (state.failPuts) throw new Error('disk full');
      state.puts += 1;
      records.set(id, record);
    },
    get: (id) => Promise.resolve(records.get(id)),
    delete: (id) => Promise.resolve(void records.delete(id)),
  };
  return { backend, state, records };
}

const proof = (secret: string) => ({ proof: { id: '00ab', amount: 1, secret, C: '02' + '11'.repeat(32) } });
const secrets = (book: Book) => book.proofs.map((entry) => entry.proof.secret).sort();

describe('token store', () => {
  it('applies concurrent updates in order, answers each once durable, and writes a batch at a time', async () => {
    const { backend, state } = memoryBackend();
    const tokens = createTokenStore(backend);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => tokens.update('https://mint.example', (book) => (book.proofs.push(proof(`s${i}`)), book.proofs.length))));
    expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect((await tokens.read('https://mint.example')).proofs).toHaveLength(20);
    expect(state.puts).toBeLessThan(20); // group commit: fewer writes than changes
    expect(state.puts).toBeGreaterThan(0);
  });

  it('a change that throws leaves the book as it was, and the others of its batch still apply', async () => {
    const { backend } = memoryBackend();
    const tokens = createTokenStore(backend);
    await tokens.update('m', (book) => void book.proofs.push(proof('kept')));
    const outcomes = await Promise.allSettled([
      tokens.update('m', (book) => void book.proofs.push(proof('a'))),
      tokens.update('m', (book) => {
        book.proofs.length = 0; // a half-done change...
        throw new Error('refused');
      }),
      tokens.update('m', (book) => void book.proofs.push(proof('b'))),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(secrets(await tokens.read('m'))).toEqual(['a', 'b', 'kept']);
  });

  it('a failed write answers every change of the batch with the error and changes nothing', async () => {
    const { backend, state } = memoryBackend();
    const tokens = createTokenStore(backend);
    await tokens.update('m', (book) => void book.proofs.push(proof('kept')));
    state.failPuts = true;
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => tokens.update('m', (book) => void book.proofs.push(proof(`x${i}`)))));
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    state.failPuts = false;
    expect(secrets(await tokens.read('m'))).toEqual(['kept']);
    // And the store still works afterwards.
    await tokens.update('m', (book) => void book.proofs.push(proof('after')));
    expect(secrets(await tokens.read('m'))).toEqual(['after', 'kept']);
  });

  it('never reads an unreadable book as empty', async () => {
    const { backend, records } = memoryBackend();
    records.set('cashu:v1:m:sat', { book: 'not json' });
    const tokens = createTokenStore(backend);
    await expect(tokens.read('m')).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    await expect(tokens.update('m', (book) => void book.proofs.push(proof('x')))).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    expect(records.get('cashu:v1:m:sat')).toEqual({ book: 'not json' });
  });
});
