import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { generate } from 'selfsigned';

/** A self-signed certificate for the test host names (and 127.0.0.1), made once per run. */
export interface TestCertificate {
  cert: string;
  key: string;
}

let certificate: Promise<TestCertificate> | undefined;

/** A certificate valid for `*.test`, `api.test` and 127.0.0.1, for local HTTPS servers. */
export function testCertificate(): Promise<TestCertificate> {
  certificate ??= generate([{ name: 'commonName', value: 'api.test' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'api.test' },
          { type: 2, value: '*.api.test' },
          { type: 2, value: 'other.test' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  }).then((pems) => ({ cert: pems.cert, key: pems.private }));
  return certificate;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** A local server on 127.0.0.1 that counts the connections it accepts. */
export interface TestServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT` or `https://…`. */
  origin: string;
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Requests seen so far, newest last. */
  requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

/** Starts an HTTP (or, with `tls`, HTTPS) server on 127.0.0.1:0. */
export async function startServer(handler: Handler, options: { tls?: boolean } = {}): Promise<TestServer> {
  const sockets = new Set<Socket>();
  const state = { connections: 0, requests: [] as TestServer['requests'] };
  const wrapped: Handler = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      handler(req, res);
    });
  };
  const server: Server = options.tls === true ? createHttpsServer(await testCertificate(), wrapped) : createHttpServer(wrapped);
  server.on(options.tls === true ? 'secureConnection' : 'connection', (socket: Socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    origin: `${options.tls === true ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    get connections() {
      return state.connections;
    },
    requests: state.requests,
    close,
    [Symbol.asyncDispose]: close,
  };
}
