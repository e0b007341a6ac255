/**
 * The network guard: SSRF-proof checks, a pinned undici dispatcher and a guarded fetch.
 *
 * @packageDocumentation
 */
export { isBlockedAddress } from './ip.js';
export { checkUrl, type CheckUrlOptions } from './check-url.js';
export type { NetPolicyOptions, NetRefusalCode, UrlVerdict } from './url-policy.js';
export { systemResolver, type ResolvedAddress, type Resolver } from './resolver.js';
export { createGuardedAgent, type GuardedAgentOptions } from './agent.js';
export { createGuardedFetch, type GuardedFetch, type GuardedFetchOptions, type GuardedRequestInit, type GuardedResponse } from './fetch.js';
export type { HttpConnectorConfig } from './config.js';
export type { HttpFetchResult } from './tool.js';
