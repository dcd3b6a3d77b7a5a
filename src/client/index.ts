export { connect, type ConnectOptions, type SmbClient, type ChannelReport } from './client.js';
export { ChannelSet, type SessionChannel } from './channels.js';
export { decodeInterfaceInfo, chooseChannelTargets, type ServerInterface } from './interfaces.js';
export { Connection, type ChannelSecurity, type RequestOptions, type Response } from './connection.js';
export { negotiate, ALL_CIPHERS, ALL_DIALECTS, ALL_SIGNING, type NegotiateOptions, type NegotiateResult } from './negotiate.js';
export { Session, type Credentials, type SessionOptions } from './session.js';
export { Tree, SmbFile, type LockRange, type OpenOptions, type TransferOptions } from './tree.js';
export { SmbError } from './errors.js';
export type { FileStatInfo, DirEntryInfo } from './messages.js';
