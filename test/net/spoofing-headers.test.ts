import { Headers } from 'undici';
import { describe, expect, it } from 'vitest';
import { createGateway } from '../../src/index.js';
import { startServer, type TestServer } from '../helpers/http-server.js';
import { loopbackOnlyDial } from '../helpers/net.js';
import { testZone } from './setup.js';

/** Client-address, forwarding and cloud-metadata headers, in the spellings an agent might try. */
const SPOOFING = [
  'X-Forwarded-For',
  'x-forwarded-host',
  'X-FORWARDED-PROTO',
  'X-Forwarded-Port',
  'X-Forwarded-Server',
  'X-Forwarded',
  'X-Original-Forwarded-For',
  'X-Real-IP',
  'X-Client-IP',
  'True-Client-IP',
  'CF-Connecting-IP',
  'Fastly-Client-IP',
  'X-Cluster-Client-IP',
  'Forwarded',
  'Via',
  'Metadata-Flavor',
  'Metadata',
  'X-aws-ec2-metadata-token',
  'X-aws-ec2-metadata-token-ttl-seconds',
  'X-Google-Metadata-Request',
  'X-IDENTITY-HEADER',
  // Underscore spellings: CGI, WSGI, PHP and Rack read them as the hyphenated header.
  'X-Forwarded_For',
  'X_Forwarded_For',
  'X-Real_IP',
  'Client_IP',
  'X-Azure-ClientIP',
  'X-Original-URL',
  'X-HTTP-Method-Override',
];

async function gateway(server: TestServer) {
  return createGateway(
    {
      policy: { allowTools: ['http.fetch'] },
      connectors: { http: { allowedDomains: ['api.test'], allowedPorts: [server.port], allowNetworks: ['127.0.0.1/32'], allowedMethods: ['GET', 'POST'] } },
    },
    { resolver: testZone(), dial: loopbackOnlyDial(), logger: { warn: () => undefined } },
  );
}

describe('client-address and cloud-metadata headers', () => {
  it.each(SPOOFING)('refuses %s from the agent (http.fetch) and from gw.fetch; nothing reaches the server', async (name) => {
    await using server = await startServer((_req, res) => res.end('x'));
    await using gw = await gateway(server);
    const url = `http://api.test:${server.port}/`;
    await expect(gw.call('http.fetch', { url, headers: { [name]: '169.254.169.254' } })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      data: { header: name.toLowerCase() },
    });
    await expect(gw.fetch(url, { headers: { [name]: 'true' } })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(gw.fetch(url, { headers: new Headers([[name, 'Google']]) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(gw.fetch(new Request(url, { headers: { [name]: '1' } }))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(gw.fetch.request(url, { method: 'POST', body: 'b', headers: [['x-ok', '1'], [name, '10.0.0.1']] })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(server.connections).toBe(0);
    expect(server.requests).toEqual([]);
  });

  it('still sends ordinary headers, and the server sees no forwarding header', async () => {
    await using server = await startServer((_req, res) => res.end('x'));
    await using gw = await gateway(server);
    await gw.call('http.fetch', { url: `http://api.test:${server.port}/`, headers: { 'X-Request-Note': 'hello', Accept: 'text/plain' } });
    expect(server.requests).toHaveLength(1);
    const received = server.requests[0]?.headers ?? {};
    expect(received['x-request-note']).toBe('hello');
    for (const name of SPOOFING) expect(received[name.toLowerCase()], name).toBeUndefined();
  });
});
