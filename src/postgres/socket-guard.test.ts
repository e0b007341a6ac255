import { once } from 'node:events';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { guardSocket } from './socket-guard.js';

let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

/** A real TCP pair on 127.0.0.1: the client socket, and a function sending bytes from the server side. */
async function pair(): Promise<{ socket: Socket; send: (bytes: Buffer) => void }> {
  const accepted: Socket[] = [];
  server = createServer((peer) => accepted.push(peer));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  while (accepted.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  return { socket, send: (bytes) => accepted[0]?.write(bytes) };
}

describe('guardSocket', () => {
  it("turns a parser's throw inside the 'data' handler into a destroyed socket, never an uncaught exception", async () => {
    const { socket, send } = await pair();
    const escaped: unknown[] = [];
    const onUncaught = (error: unknown): void => void escaped.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      socket.on('data', () => {
        throw new RangeError('Cannot create a string longer than 0x1fffffe8 characters'); // what pg's parser throws
      });
      guardSocket(socket);
      const errored = once(socket, 'error');
      send(Buffer.from('D'));
      const [error] = (await errored) as [Error];
      expect(error.message).toMatch(/longer than/);
      expect(socket.destroyed).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(escaped).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  });

  it('counts bytes before the listeners it wraps, and cuts the socket without handing them the chunk', async () => {
    const { socket, send } = await pair();
    const seen: number[] = [];
    socket.on('data', (chunk: Buffer) => seen.push(chunk.length));
    const slot = guardSocket(socket);
    expect(guardSocket(socket)).toBe(slot); // once per socket
    let counted = 0;
    slot.watch = { onBytes: (count) => (counted += count) <= 10 };
    send(Buffer.alloc(5));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toEqual([5]);
    const closed = once(socket, 'close');
    send(Buffer.alloc(20));
    await closed;
    expect(seen).toEqual([5]); // the chunk past the limit never reached the wrapped listener
    expect(counted).toBe(25);
  });
});
