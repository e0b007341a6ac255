import { createGuardedAgent } from '../../src/net/agent.js';
import { createGuardedFetch, type GuardedFetch, type GuardedFetchOptions } from '../../src/net/fetch.js';
import { testCertificate } from '../helpers/http-server.js';
import { fakeResolver, loopbackOnlyDial } from '../helpers/net.js';

/** The test zone: names on loopback, names that resolve to private or mixed answers. */
export function testZone(): ReturnType<typeof fakeResolver> {
  return fakeResolver({
    'api.test': ['127.0.0.1'],
    'mint.test': ['127.0.0.1'],
    'mint2.test': ['127.0.0.1'],
    'other.test': ['127.0.0.1'],
    'wrong.test': ['127.0.0.1'],
    'private.test': ['10.0.0.1'],
    'meta.test': ['169.254.169.254'],
    'mixed.test': ['127.0.0.1', '192.168.1.10'],
    'v6mapped.test': ['::ffff:10.0.0.1'],
    // First answer loopback (reachable through allowNetworks), every later one private.
    'rebind.test': [['127.0.0.1'], ['10.0.0.9']],
  });
}

/** A guarded fetch for tests: loopback reachable only through allowNetworks, and a dial that never leaves loopback. */
export async function testFetch(options: GuardedFetchOptions = {}): Promise<
  AsyncDisposable & {
    fetch: GuardedFetch;
    dial: ReturnType<typeof loopbackOnlyDial>;
    resolver: ReturnType<typeof fakeResolver>;
  }
> {
  const { cert } = await testCertificate();
  const dial = loopbackOnlyDial({ ca: cert });
  const resolver = testZone();
  const policy = {
    allowedDomains: ['api.test', 'mint.test', 'mint2.test', 'other.test', 'wrong.test', 'private.test', 'meta.test', 'mixed.test', 'v6mapped.test', 'rebind.test'],
    allowNetworks: ['127.0.0.1/32'],
    resolver,
    ...options,
  };
  const agent = createGuardedAgent({ ...policy, dial });
  const fetch = createGuardedFetch({ retryBaseMs: 5, ...policy, agent });
  return {
    fetch,
    dial,
    resolver,
    [Symbol.asyncDispose]: async () => {
      await fetch.close();
      await agent.close();
    },
  };
}
