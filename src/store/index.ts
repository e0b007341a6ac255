/**
 * The encrypted credential store: AES-256-GCM records with atomic, durable writes, and the
 * keys behind it (OS keychain, key file, or injected).
 *
 * @packageDocumentation
 */
export { createCredentialStore, type CredentialBackend, type CredentialStore, type CredentialStoreOptions, type StoredRecord } from './credential-store.js';
export { envKey, injectedKey, keyFile, keychainKey, type KeyFileOptions, type KeyProvider, type KeyRequest } from './keys.js';
export { checkToken, normalisePreimage } from './validate.js';
export { migrateLegacyFile } from './legacy.js';
