import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { GatewayError } from '../errors.js';
import { chainLine } from './chain.js';
import type { AuditSink, ChainHead } from './record.js';

/** Options of {@link jsonlFileSink}. */
export interface JsonlFileSinkOptions {
  /** The JSONL file; created with mode 0600, appended to (and its chain continued) if present. */
  path: string;
  /**
   * `fdatasync` after every batch, so a record that was flushed survives a power cut.
   * @default true
   */
  fsync?: boolean;
  /** Where to report a repaired torn last line. Default: `process.emitWarning`. */
  warn?: (message: string) => void;
}

/** The file sink: an {@link AuditSink} that always keeps a chain head. */
export interface JsonlFileSink extends AuditSink {
  /** The absolute path written to. */
  readonly path: string;
  open(): Promise<void>;
  head(): ChainHead | undefined;
  close(): Promise<void>;
}

/** How much of the file's end is read to find the last record, in bytes. */
const TAIL_BYTES = 256 * 1024;

/**
 * A hash-chained JSONL audit file. Each line is one `ChainedAuditRecord` in canonical JSON
 * (keys sorted); reopening the
 * file continues its chain. A line torn by a crash in the middle of a write (no final newline)
 * is cut off on open, with a warning: it was never a complete record.
 */
export function jsonlFileSink(options: JsonlFileSinkOptions): JsonlFileSink {
  const path = resolve(options.path);
  const fsync = options.fsync ?? true;
  const warn = options.warn ?? ((message: string) => process.emitWarning(message, { code: 'PORTCULLIS_AUDIT' }));
  let handle: FileHandle | undefined;
  let head: ChainHead | undefined;
  let sizeBytes = 0;

  return {
    name: `file:${path}`,
    path,
    head: () => head,

    async open() {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      // 'a+' so the tail can be read; O_APPEND keeps every write at the end.
      handle = await open(path, 'a+', 0o600);
      await handle.chmod(0o600);
      const { size } = await handle.stat();
      const tail = await readTail(handle, size);
      if (tail.tornBytes > 0) {
        warn(`audit log ${path}: removed ${tail.tornBytes} bytes of a line torn by an earlier crash`);
        await handle.truncate(size - tail.tornBytes);
      }
      head = tail.head;
      sizeBytes = size - tail.tornBytes;
    },

    async write(records) {
      if (handle === undefined) throw new GatewayError('AUDIT_UNAVAILABLE', 'The audit file is not open.');
      let next = head;
      let text = '';
      for (const record of records) {
        const chained = chainLine(record, next);
        text += `${chained.line}\n`;
        next = chained.head;
      }
      const bytes = Buffer.from(text, 'utf8');
      try {
        let written = 0;
        while (written < bytes.length) {
          const result = await handle.write(bytes, written, bytes.length - written);
          written += result.bytesWritten;
        }
        if (fsync) await handle.datasync();
      } catch (error) {
        // Leave no half-written line behind: the batch is offered again and must chain cleanly.
        await handle.truncate(sizeBytes).catch(() => undefined);
        throw error;
      }
      sizeBytes += bytes.length;
      head = next;
    },

    async close() {
      await handle?.close();
      handle = undefined;
    },
  };
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
