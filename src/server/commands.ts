import { Command } from '../protocol/constants.js';
import type { CommandSpec } from './request.js';
import { negotiate } from '../handlers/negotiate.js';
import { sessionSetup, logoff } from '../handlers/session-setup.js';
import { treeConnect, treeDisconnect, echo } from '../handlers/tree.js';
import { create } from '../handlers/create.js';
import { close, flush, read, write, readPayloadSize, writePayloadSize } from '../handlers/io.js';
import { queryDirectory, queryDirectoryPayloadSize } from '../handlers/query-directory.js';
import { queryInfo } from '../handlers/query-info.js';
import { setInfo } from '../handlers/set-info.js';
import { ioctl, ioctlPayloadSize, ioctlIsSessionless } from '../handlers/ioctl.js';
import { lock } from '../handlers/lock.js';
import { changeNotify } from '../handlers/change-notify.js';
import { oplockBreakAck } from '../handlers/oplock-break.js';

/** Oplock acks are 24 bytes, lease acks 36 ([MS-SMB2] 2.2.24.1, 2.2.24.2): dispatch accepts either. */
const oplockBreakSpec = {
  name: 'OPLOCK_BREAK',
  handler: oplockBreakAck,
  structureSize: 24,
  structureSizes: [24, 36] as readonly number[],
  needsSession: true,
  needsTree: true,
  changesState: false,
};

/**
 * The dispatch table: each command's handler and what dispatch must check before calling it.
 * StructureSize values are from [MS-SMB2] 2.2.x.
 */
export const COMMANDS: Record<number, CommandSpec> = {
  [Command.NEGOTIATE]: { name: 'NEGOTIATE', handler: negotiate, structureSize: 36, needsSession: false, needsTree: false, changesState: false },
  [Command.SESSION_SETUP]: { name: 'SESSION_SETUP', handler: sessionSetup, structureSize: 25, needsSession: false, needsTree: false, changesState: false },
  [Command.LOGOFF]: { name: 'LOGOFF', handler: logoff, structureSize: 4, needsSession: true, needsTree: false, changesState: false },
  [Command.TREE_CONNECT]: { name: 'TREE_CONNECT', handler: treeConnect, structureSize: 9, needsSession: true, needsTree: false, changesState: false },
  [Command.TREE_DISCONNECT]: { name: 'TREE_DISCONNECT', handler: treeDisconnect, structureSize: 4, needsSession: true, needsTree: true, changesState: false },
  [Command.CREATE]: { name: 'CREATE', handler: create, structureSize: 57, needsSession: true, needsTree: true, changesState: true },
  [Command.CLOSE]: { name: 'CLOSE', handler: close, structureSize: 24, needsSession: true, needsTree: true, changesState: false },
  [Command.FLUSH]: { name: 'FLUSH', handler: flush, structureSize: 24, needsSession: true, needsTree: true, changesState: true },
  [Command.READ]: { name: 'READ', handler: read, structureSize: 49, needsSession: true, needsTree: true, changesState: false, payloadSize: readPayloadSize },
  [Command.WRITE]: { name: 'WRITE', handler: write, structureSize: 49, needsSession: true, needsTree: true, changesState: true, payloadSize: writePayloadSize },
  [Command.LOCK]: { name: 'LOCK', handler: lock, structureSize: 48, needsSession: true, needsTree: true, changesState: true },
  [Command.IOCTL]: { name: 'IOCTL', handler: ioctl, structureSize: 57, needsSession: true, needsTree: true, changesState: true, payloadSize: ioctlPayloadSize, sessionless: ioctlIsSessionless },
  [Command.ECHO]: { name: 'ECHO', handler: echo, structureSize: 4, needsSession: false, needsTree: false, changesState: false },
  [Command.QUERY_DIRECTORY]: { name: 'QUERY_DIRECTORY', handler: queryDirectory, structureSize: 33, needsSession: true, needsTree: true, changesState: false, payloadSize: queryDirectoryPayloadSize },
  [Command.CHANGE_NOTIFY]: { name: 'CHANGE_NOTIFY', handler: changeNotify, structureSize: 32, needsSession: true, needsTree: true, changesState: false },
  [Command.QUERY_INFO]: { name: 'QUERY_INFO', handler: queryInfo, structureSize: 41, needsSession: true, needsTree: true, changesState: false },
  [Command.SET_INFO]: { name: 'SET_INFO', handler: setInfo, structureSize: 33, needsSession: true, needsTree: true, changesState: true },
  [Command.OPLOCK_BREAK]: oplockBreakSpec,
};
