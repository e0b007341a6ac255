/**
 * Portcullis: one pipeline (validate → default-deny policy → execute within limits → audit)
 * between an AI agent and the world.
 *
 * @packageDocumentation
 */
export { createGateway, type CallContext, type Gateway, type GatewayDeps, type Logger } from './gateway.js';
export type { GatewaySpend } from './payments.js';
export { defineTool, type Canonical, type CanonicalCall, type FactValue, type Facts, type ListedTool, type ToolContext, type ToolDefinition } from './tools.js';
export { ERROR_CODES, GatewayError, isGatewayError, type ErrorCode, type GatewayErrorOptions } from './errors.js';
export { gatewayConfigSchema, parseConfig, type GatewayConfig, type ResolvedConfig } from './config.js';
export {
  configFromEnv,
  configFromYaml,
  loadConfigFile,
  loadGatewayConfig,
  mergeConfig,
  type ConfigFromEnvOptions,
  type LoadGatewayConfigOptions,
  type LoadedConfig,
  type RuntimeHints,
} from './config-loaders.js';
export {
  createPolicy,
  createMemoryRateLimitStore,
  type ActorPolicy,
  type ApprovalBinding,
  type ArgumentRule,
  type ArgumentRuleInput,
  type ArgumentRulesApi,
  type CallApprovalRequest,
  type CallApprover,
  type Condition,
  type Explanation,
  type Mandate,
  type MandateGrant,
  type MemoryRateLimitStore,
  type MemoryRateLimitStoreOptions,
  type PerToolPolicy,
  type Policy,
  type PolicyDecision,
  type PolicyDeps,
  type PolicyOptions,
  type RateLimit,
  type RateLimitStore,
  type ToolLimits,
} from './policy/index.js';
export {
  canonicalJson,
  hashArgs,
  auditChainKey,
  jsonlFileSink,
  verifyAuditLog,
  verifyAuditRecords,
  type AuditDecision,
  type AuditHealth,
  type AuditLog,
  type AuditRecord,
  type AuditSink,
  type AuditVerification,
  type ChainedAuditRecord,
  type ChainHead,
  type JsonlFileSink,
  type JsonlFileSinkOptions,
  type SigningKeyInput,
  type VerifyAuditOptions,
} from './audit/index.js';
