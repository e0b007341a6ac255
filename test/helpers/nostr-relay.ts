import type { AddressInfo } from 'node:net';
import { matchFilters, type Filter } from 'nostr-tools/filter';
import { verifyEvent, type Event } from 'nostr-tools/pure';
import { WebSocketServer, type WebSocket } from 'ws';

/** A minimal NIP-01 relay on 127.0.0.1: events are signature-checked, stored and fanned out. */
export interface TestRelay extends AsyncDisposable {
  url: string;
  /** Events accepted so far. */
  events: Event[];
  /** Events refused for a bad signature or id. */
  rejected: number;
  close(): Promise<void>;
}

export async function startRelay(): Promise<TestRelay> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const events: Event[] = [];
  const subscriptions = new Map<WebSocket, Map<string, Filter[]>>();
  const state = { rejected: 0 };
  const send = (socket: WebSocket, message: unknown[]): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  server.on('connection', (socket) => {
    const subs = new Map<string, Filter[]>();
    subscriptions.set(socket, subs);
    socket.on('close', () => subscriptions.delete(socket));
    socket.on('message', (data) => {
      let message: unknown;
      try {
        message = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8'));
      } catch {
        return send(socket, ['NOTICE', 'invalid: not JSON']);
      }
      if (!Array.isArray(message)) return send(socket, ['NOTICE', 'invalid: not an array']);
      const [type, ...rest] = message as [string, ...unknown[]];
      if (type === 'EVENT') {
        const event = rest[0] as Event;
        if (!verifyEvent(event)) {
          state.rejected += 1;
          return send(socket, ['OK', event?.id ?? '', false, 'invalid: bad signature or id']);
        }
        events.push(event);
        send(socket, ['OK', event.id, true, '']);
        for (const [peer, peerSubs] of subscriptions) {
          for (const [id, filters] of peerSubs) if (matchFilters(filters, event)) send(peer, ['EVENT', id, event]);
        }
      } else if (type === 'REQ') {
        const [id, ...filters] = rest as [string, ...Filter[]];
        subs.set(id, filters);
        for (const event of events) if (matchFilters(filters, event)) send(socket, ['EVENT', id, event]);
        send(socket, ['EOSE', id]);
      } else if (type === 'CLOSE') {
        subs.delete(rest[0] as string);
      }
    });
  });
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    for (const socket of server.clients) socket.terminate();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    url: `ws://127.0.0.1:${port}`,
    events,
    get rejected() {
      return state.rejected;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
