import type { EventEmitter } from 'node:events';

/** What the query in flight on a connection is told about the bytes arriving. */
export interface SocketWatch {
  /** Called with the size of each chunk before pg's parser sees it; return false to stop the connection. */
  onBytes(count: number): boolean;
}

interface Slot {
  watch: SocketWatch | undefined;
}

type DataListener = (chunk: Buffer) => void;
type Stream = EventEmitter & { destroy(error?: Error): void; destroyed?: boolean };

const slots = new WeakMap<object, Slot>();

/**
 * Puts the connection's socket under watch (once per socket) and returns its slot, where the
 * query in flight sets its {@link SocketWatch}.
 *
 * pg's protocol parser runs inside the socket's 'data' handler: it buffers a message until it
 * is whole, then turns it into strings. A message larger than Node can hold as a string (or a
 * buffer) makes it throw there, and nothing catches it: the host process exits. So pg's own
 * 'data' listeners are moved behind one of ours, which
 * - counts every chunk first and, when the watch says so, destroys the socket *without* handing
 *   pg the chunk, so pg never assembles the message;
 * - catches whatever pg's parser throws and destroys the socket with it: the client then fails
 *   its query and reports an 'error' event, and the pool discards it.
 */
export function guardSocket(stream: unknown): Slot {
  const socket = stream as Stream;
  const existing = slots.get(socket);
  if (existing !== undefined) return existing;
  const own: Slot = { watch: undefined };
  const listeners = socket.listeners('data') as DataListener[];
  for (const listener of listeners) socket.removeListener('data', listener);
  socket.on('data', (chunk: Buffer) => {
    if (socket.destroyed === true) return;
    if (own.watch !== undefined && !own.watch.onBytes(chunk.length)) {
      socket.destroy();
      return;
    }
    for (const listener of listeners) {
      try {
        listener.call(socket, chunk);
      } catch (error) {
        socket.destroy(error instanceof Error ? error : new Error(String(error)));
        return;
      }
    }
  });
  slots.set(socket, own);
  return own;
}
