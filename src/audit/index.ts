export { canonicalJson, hashArgs, sha256Hex } from './canonical-json.js';
export { chainRecord, GENESIS_HASH } from './chain.js';
export { auditChainKey, type SigningKeyInput } from './keys.js';
export { jsonlFileSink, type JsonlFileSink, type JsonlFileSinkOptions } from './file-sink.js';
export { createAuditLog, type AuditHealth, type AuditLog, type AuditLogOptions } from './log.js';
export type { AuditDecision, AuditRecord, AuditSink, ChainedAuditRecord, ChainHead } from './record.js';
export { verifyAuditLog, verifyAuditRecords, type AuditVerification, type VerifyAuditOptions } from './verify.js';
