export { createServer, SmbServer } from './server/server.js';
export type { ServerOptions, ShareConfig, UserStore, UserRecord, InterfaceSpec, EncryptSetting, SigningSetting } from './server/options.js';
export { Dialect } from './server/options.js';
export type { Backend, VfsHandle, FileStat, DirEntry, FsInfo } from './vfs/types.js';
export { listWithStats } from './vfs/types.js';
export { Status, NtStatusError, statusName } from './protocol/status.js';
export * as client from './client/index.js';
export { connect, SmbError } from './client/index.js';
