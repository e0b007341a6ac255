import { connect } from 'node:net';

/** What a backend needs to be cancelled: its address and the key it gave at start-up. */
export interface CancelTarget {
  host: string;
  port: number;
  processID: number;
  secretKey: number;
}

const CANCEL_REQUEST_CODE = 80_877_102;

/**
 * Sends a CancelRequest (a 16-byte message on a new connection) so the server stops the query
 * now, rather than when it next writes to a client that is gone. Resolves once sent; never rejects.
 */
export function cancelBackend(target: CancelTarget, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const message = Buffer.alloc(16);
    message.writeInt32BE(16, 0);
    message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
    message.writeInt32BE(target.processID, 8);
    message.writeInt32BE(target.secretKey, 12);
    const path = target.host.startsWith('/') ? `${target.host}/.s.PGSQL.${target.port}` : undefined;
    const socket = path === undefined ? connect(target.port, target.host) : connect(path);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    socket.once('connect', () => socket.end(message));
    socket.once('close', finish);
    socket.once('error', finish);
  });
}
