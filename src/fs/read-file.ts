import { GatewayError } from '../errors.js';
import type { PathGuard } from './guard.js';
import { hardLinkRefusal, shown } from './guard.js';
import { typeOf } from './stat.js';

/** Arguments of `fs.readFile`. */
export interface ReadFileArgs {
  path: string;
  /** @default 'utf8' */
  encoding?: 'utf8' | 'base64' | undefined;
  /** Byte offset to start at. @default 0 */
  offset?: number | undefined;
  /** Bytes to read at most. @default up to the limit */
  length?: number | undefined;
}

/** What `fs.readFile` returns. */
export interface ReadFileResult {
  path: string;
  /** Size of the whole file, in bytes. */
  size: number;
  offset: number;
  bytesRead: number;
  /** True when the read stopped at the limit before the end of the file (or of `length`). */
  truncated: boolean;
  encoding: 'utf8' | 'base64';
  content: string;
}

export interface ReadFileLimits {
  maxBytes: number;
  onTooLarge: 'truncate' | 'refuse';
  refuseHardLinks: boolean;
}

const CHUNK_BYTES = 64 * 1024;

/** Reads a regular file inside the roots, at most `limits.maxBytes` of it. */
export async function readFile(guard: PathGuard, args: ReadFileArgs, limits: ReadFileLimits, signal?: AbortSignal): Promise<ReadFileResult> {
  const checked = await guard.check(args.path);
  if (!checked.stats.isFile()) {
    throw new GatewayError('NOT_A_FILE', `Path ${shown(args.path)} is a ${typeOf(checked.stats)}, not a regular file.`, { data: { type: typeOf(checked.stats) } });
  }
  if (limits.refuseHardLinks && checked.stats.nlink > 1) {
    throw hardLinkRefusal(args.path);
  }
  const offset = args.offset ?? 0;
  const size = checked.stats.size;
  const wanted = Math.max(0, Math.min(args.length ?? Number.MAX_SAFE_INTEGER, size - offset));
  if (wanted > limits.maxBytes && limits.onTooLarge === 'refuse') {
    throw new GatewayError('RESPONSE_TOO_LARGE', `Path ${shown(args.path)} would read ${wanted} bytes, over the limit of ${limits.maxBytes}; pass offset and length to read a part.`, {
      data: { bytes: wanted, maxBytes: limits.maxBytes },
    });
  }
  const budget = Math.min(wanted, limits.maxBytes);
  const handle = await guard.open(checked, false);
  try {
    const buffer = Buffer.allocUnsafe(budget);
    let read = 0;
    while (read < budget) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, read, Math.min(CHUNK_BYTES, budget - read), offset + read);
      if (bytesRead === 0) break; // the file shrank since the check
      read += bytesRead;
    }
    const encoding = args.encoding ?? 'utf8';
    return {
      path: args.path,
      size,
      offset,
      bytesRead: read,
      truncated: read < wanted,
      encoding,
      content: buffer.subarray(0, read).toString(encoding),
    };
  } finally {
    await handle.close();
  }
}
