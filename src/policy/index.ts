export { compileGlob, compileGlobList, type CompiledGlob, type GlobList } from './glob.js';
export {
  createMemoryRateLimitStore,
  type MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
  type RateLimit,
  type RateLimitStore,
} from './rate-limit.js';
export {
  createPolicy,
  type ActorPolicy,
  type PerToolPolicy,
  type Policy,
  type PolicyDecision,
  type PolicyDeps,
  type PolicyOptions,
  type ToolLimits,
} from './engine.js';
export {
  type ArgumentRulesApi,
  type CallApprovalRequest,
  type CallApprover,
  type Explanation,
} from './rules/enforce.js';
export { type ApprovalBinding, type Mandate, type MandateGrant } from './rules/approvals.js';
export { type ArgumentRuleInput, type ArgumentRule, type Condition } from './rules/schema.js';
