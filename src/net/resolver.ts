import { lookup } from 'node:dns/promises';

/** One address of a DNS answer. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a host name to every address of its answer (A and AAAA). Inject one to control
 * DNS in tests or to use your own resolver; the guard validates every address it returns.
 */
export type Resolver = (hostname: string, options: { signal?: AbortSignal | undefined }) => Promise<readonly ResolvedAddress[]>;

/** The default resolver: the system's `getaddrinfo` through `dns.lookup({ all: true })`. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await lookup(hostname, { all: true, verbatim: true });
  return answers.map((answer) => ({ address: answer.address, family: answer.family === 6 ? 6 : 4 }));
};
