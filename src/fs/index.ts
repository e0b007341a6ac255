/**
 * The read-only filesystem connector: `fs.readFile`, `fs.listDir` and `fs.stat` confined to
 * their roots, on real paths, without following swapped-in symlinks.
 *
 * @packageDocumentation
 */
export { createFilesystem, type Filesystem, type FilesystemHooks } from './connector.js';
export type { FilesystemConnectorConfig } from './config.js';
export type { BeforeOpenHook } from './guard.js';
export type { ListDirArgs, ListDirResult, ListEntry } from './list-dir.js';
export type { ReadFileArgs, ReadFileResult } from './read-file.js';
export type { EntryType, StatResult } from './stat.js';
