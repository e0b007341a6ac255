import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { GatewayError } from '../errors.js';
import type { KeyProvider } from '../store/keys.js';
import { sha256Hex } from './canonical-json.js';
import { canonicalLinked, chainLine, GENESIS_HASH, type ChainHasher } from './chain.js';
import type { AuditRecord, AuditSink, ChainHead } from './record.js';
import { chainHasher, headSigner, type SigningKeyInput } from './keys.js';
import { attachStagedWriter } from './staged.js';

/** Options of {@link jsonlFileSink}. */
export interface JsonlFileSinkOptions {
  /** The JSONL file; created with mode 0600, appended to (and its chain continued) if present. */
  path: string;
  /**
   * `fdatasync` after every write, so a record that was flushed survives a power cut.
   * @default true
   */
  fsync?: boolean;
  /** Where to report a repaired torn last line. Default: `process.emitWarning`. */
  warn?: (message: string) => void;
  /**
   * Keys the chain: each `hash` is an HMAC-SHA256 under a key derived (HKDF) from this
   * provider's key, so an edited log re-hashed without the key fails verification with it.
   */
  key?: KeyProvider | undefined;
  /**
   * An Ed25519 private key (a `KeyObject` or PKCS#8 PEM): the last record of every write
   * carries `head_sig`, a signature of its `seq` and `hash`, which anyone with the public key
   * can check (`verifyAuditLog(path, { publicKey })`).
   */
  signingKey?: SigningKeyInput | undefined;
  /** Opens the file (tests and instrumentation wrap the handle). @default fs.promises.open */
  openFile?: ((path: string, flags: string, mode: number) => Promise<FileHandle>) | undefined;
}

/** The file sink: an {@link AuditSink} that always keeps a chain head. */
export interface JsonlFileSink extends AuditSink {
  /** The absolute path written to. */
  readonly path: string;
  open(): Promise<void>;
  /** The newest record accepted (it reaches the disk with the next write). */
  head(): ChainHead | undefined;
  /** The newest record written (and, with `fsync`, synced) to the file. */
  durableHead(): ChainHead | undefined;
  close(): Promise<void>;
}

/** What follows a line's canonical JSON once its closing brace is dropped: `,"hash":"<64 hex>"}` and a newline. */
const LINE_TAIL_BYTES = ',"hash":""}\n'.length + 64;

/** How much of the file's end is read to find the last record, in bytes. */
const TAIL_BYTES = 256 * 1024;

/**
 * A hash-chained JSONL audit file. Each line is one `ChainedAuditRecord` in canonical JSON
 * (keys sorted, plain ASCII); reopening the file continues its chain. A line torn by a crash
 * in the middle of a write (no final newline) is cut off on open, with a warning, and the cut
 * is itself recorded (tool `audit.repair`: bytes removed, their SHA-256, the head it continues
 * from). Writes must not overlap: the audit log runs one at a time.
 */
export function jsonlFileSink(options: JsonlFileSinkOptions): JsonlFileSink {
  const path = resolve(options.path);
  const fsync = options.fsync ?? true;
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'PORTCULLIS_AUDIT' }));
  let handle: FileHandle | undefined;
  /** Newest record on disk, and the file's size after it. */
  let head: ChainHead | undefined;
  let sizeBytes = 0;
  /** Encoded lines not yet written, and the head they lead to. */
  let pending: Buffer = Buffer.allocUnsafe(64 * 1024);
  /** The buffer of the last completed write, reused for the next one. */
  let spare: Buffer | undefined;
  let pendingBytes = 0;
  let pendingRecords = 0;
  let stagedHead: ChainHead | undefined;
  let hasher: ChainHasher | undefined;
  // The digest of a chained line: keyed when a key is configured (set once, at open).
  let hashLine: ChainHasher = sha256Hex;
  let sign: ((head: ChainHead) => string) | undefined;

  /** True when the last staged line already carries its `head_sig`. */
  let lastSigned = false;

  function stage(record: AuditRecord): void {
    lastSigned = false;
    const seq = (stagedHead?.seq ?? 0) + 1;
    const canonical = canonicalLinked(record, seq, stagedHead?.hash ?? GENESIS_HASH);
    let hash: string;
    if (Buffer.byteLength(canonical, 'utf8') === canonical.length) {
      // All ASCII (the common case): the canonical JSON is the line up to its closing brace, so
      // it is encoded once, straight into the pending bytes, hashed there, and the brace is
      // overwritten by the `hash` field.
      const needed = pendingBytes + canonical.length + LINE_TAIL_BYTES;
      if (needed > pending.length) pending = grow(pending, pendingBytes, needed);
      const start = pendingBytes;
      const end = start + pending.write(canonical, start, 'latin1');
      hash = hashLine(pending.subarray(start, end));
      pendingBytes = end - 1 + pending.write(`,"hash":"${hash}"}\n`, end - 1, 'latin1');
    } else {
      // asciiJson escapes what is not ASCII, so the stored line is one byte per character.
      const chained = chainLine(record, stagedHead, hasher);
      hash = chained.head.hash;
      const needed = pendingBytes + chained.line.length + 1;
      if (needed > pending.length) pending = grow(pending, pendingBytes, needed);
      pendingBytes += pending.write(chained.line, pendingBytes, 'latin1');
      pending[pendingBytes++] = 0x0a;
    }
    pendingRecords += 1;
    stagedHead = { seq, hash };
  }

  async function drain(): Promise<void> {
    if (pendingRecords === 0) return;
    if (handle === undefined) throw new GatewayError('AUDIT_UNAVAILABLE', 'The audit file is not open.');
    // Records staged while the write is in flight go to a fresh buffer.
    if (sign !== undefined && stagedHead !== undefined && !lastSigned) signLast(sign(stagedHead));
    const full = pending;
    const bytes = full.subarray(0, pendingBytes);
    const records = pendingRecords;
    const newHead = stagedHead;
    pending = spare ?? Buffer.allocUnsafe(full.length);
    spare = undefined;
    pendingBytes = 0;
    pendingRecords = 0;
    try {
      let written = 0;
      while (written < bytes.length) {
        const result = await handle.write(bytes, written, bytes.length - written);
        written += result.bytesWritten;
      }
      if (fsync) await handle.datasync();
    } catch (error) {
      // Leave no half-written line behind, and put the bytes back in front of what was staged
      // since, so the next write retries them and the chain stays in order.
      await handle.truncate(sizeBytes).catch(() => undefined);
      if (pendingBytes === 0) lastSigned = true; // nothing staged since: the retried bytes end signed
      const merged = Buffer.allocUnsafe(bytes.length + pending.length);
      bytes.copy(merged, 0);
      pending.copy(merged, bytes.length, 0, pendingBytes);
      pending = merged;
      pendingBytes += bytes.length;
      pendingRecords += records;
      throw error;
    }
    sizeBytes += bytes.length;
    head = newHead;
    spare = full;
  }

  /** Adds `"head_sig"` to the last staged line (it ends with `}\n`); not covered by `hash`. */
  function signLast(signature: string): void {
    const extra = Buffer.from(`,"head_sig":"${signature}"}\n`, 'latin1');
    if (pendingBytes - 2 + extra.length > pending.length) pending = grow(pending, pendingBytes, pendingBytes - 2 + extra.length);
    pendingBytes -= 2;
    pendingBytes += extra.copy(pending, pendingBytes);
    lastSigned = true;
  }

  const sink: JsonlFileSink = {
    name: `file:${path}`,
    path,
    head: () => stagedHead,
    durableHead: () => head,

    async open() {
      if (options.key !== undefined) hashLine = hasher = chainHasher(await options.key.getKey());
      if (options.signingKey !== undefined) sign = headSigner(options.signingKey);
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // 'a+' so the tail can be read; O_APPEND keeps every write at the end.
      handle = await (options.openFile ?? open)(path, 'a+', 0o600);
      await handle.chmod(0o600);
      const { size } = await handle.stat();
      const tail = await readTail(handle, size);
      head = tail.head;
      stagedHead = head;
      sizeBytes = size - tail.tornBytes;
      if (tail.tornBytes > 0) {
        const torn = Buffer.alloc(tail.tornBytes);
        await handle.read(torn, 0, torn.length, sizeBytes);
        warn(`audit log ${path}: removed ${tail.tornBytes} bytes of a line torn by an earlier crash (recorded as an audit.repair record)`);
        await handle.truncate(sizeBytes);
        stage(repairRecord(tail.tornBytes, createHash('sha256').update(torn).digest('hex'), head));
        await drain();
      }
    },

    async write(records) {
      if (handle === undefined) throw new GatewayError('AUDIT_UNAVAILABLE', 'The audit file is not open.');
      for (const record of records) stage(record);
      try {
        await drain();
      } catch (error) {
        // The batch contract: on a throw the same batch is offered again, so drop it here.
        pendingBytes = 0;
        pendingRecords = 0;
        stagedHead = head;
        throw error;
      }
    },

    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
  attachStagedWriter(sink, { stage, drain, pending: () => pendingRecords });
  return sink;
}

/** The record of a torn-line repair: what was cut off, and the head the chain continues from. */
function repairRecord(tornBytes: number, tornSha256: string, oldHead: ChainHead | undefined): AuditRecord {
  return {
    timestamp: new Date().toISOString(),
    request_id: randomUUID(),
    tool: 'audit.repair',
    actor: null,
    args_sha256: null,
    decision: 'error',
    reason: `removed ${tornBytes} bytes of a line torn by an earlier crash; the chain continues from sequence ${oldHead?.seq ?? 0}`,
    duration_ms: 0,
    result_bytes: 0,
    error_code: null,
    details: { torn_bytes: tornBytes, torn_sha256: tornSha256, old_head_seq: oldHead?.seq ?? 0, old_head_hash: oldHead?.hash ?? GENESIS_HASH },
  };
}

/** A larger buffer holding the first `used` bytes of `buffer`. */
function grow(buffer: Buffer, used: number, needed: number): Buffer {
  const grown = Buffer.allocUnsafe(Math.max(needed, buffer.length * 2));
  buffer.copy(grown, 0, 0, used);
  return grown;
}

interface Tail {
  head: ChainHead | undefined;
  /** Bytes after the last newline: a torn line. */
  tornBytes: number;
}

async function readTail(handle: FileHandle, size: number): Promise<Tail> {
  if (size === 0) return { head: undefined, tornBytes: 0 };
  const length = Math.min(size, TAIL_BYTES);
  const buffer = Buffer.alloc(length);
  await handle.read(buffer, 0, length, size - length);
  const lastNewline = buffer.lastIndexOf(0x0a);
  const tornBytes = length - (lastNewline + 1);
  if (lastNewline < 0) {
    if (length < size) throw notAnAuditLog(); // a line longer than the tail: not ours
    return { head: undefined, tornBytes };
  }
  const start = buffer.lastIndexOf(0x0a, lastNewline - 1) + 1;
  if (start === 0 && length < size) throw notAnAuditLog();
  const line = buffer.subarray(start, lastNewline).toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw notAnAuditLog();
  }
  const { seq, hash } = (parsed ?? {}) as { seq?: unknown; hash?: unknown };
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || typeof hash !== 'string' || !/^[0-9a-f]{64}$/.test(hash)) {
    throw notAnAuditLog();
  }
  return { head: { seq, hash }, tornBytes };
}

function notAnAuditLog(): GatewayError {
  return new GatewayError(
    'CONFIG_INVALID',
    'The audit file exists but its last line is not a Portcullis audit record; refusing to append. Point audit.file at a new file.',
  );
}
