import { z } from 'zod';

/** `connectors.filesystem`: the read-only `fs.readFile`, `fs.listDir` and `fs.stat` tools. */
export const filesystemConnectorSchema = z.strictObject({
  /** Directories the tools may read, resolved to real paths at start-up; the first one is the base of relative paths. */
  allowedPaths: z.array(z.string().min(1).max(4096)).min(1, 'list at least one directory'),
  /**
   * Paths inside them that are never read or listed (they are simply absent from listings).
   * Literal paths: a pattern such as `*.env` would silently match nothing, so `*`, `?` and `[`
   * are refused.
   */
  deniedPaths: z
    .array(
      z
        .string()
        .min(1)
        .max(4096)
        .refine((path) => !/[*?[]/.test(path), 'deniedPaths are literal paths: glob characters (* ? [) are not supported'),
    )
    .default([]),
  /** Largest read of `fs.readFile`, in bytes (5 MiB); the tool's `maxBytes` limit applies too. */
  maxFileBytes: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).default(5 * 1024 * 1024),
  /** What `fs.readFile` does with a file larger than the limit: return the start with `truncated: true`, or refuse with `RESPONSE_TOO_LARGE`. */
  onTooLarge: z.enum(['truncate', 'refuse']).default('truncate'),
  /** Entries `fs.listDir` returns at most. */
  maxEntries: z.number().int().positive().max(100_000).default(1000),
  /** Depth `fs.listDir` descends at most when recursive. */
  maxDepth: z.number().int().positive().max(32).default(8),
  /**
   * Refuse regular files with more than one hard link. A hard link inside a root to a file
   * elsewhere cannot be told from the original by its path; refusing them closes that door.
   */
  refuseHardLinks: z.boolean().default(true),
});

export type FilesystemConnectorConfig = z.output<typeof filesystemConnectorSchema>;
