/**
 * Server Service Remote Protocol ([MS-SRVS]): the share and server queries clients use to
 * browse a server. Layouts follow [MS-SRVS] 2.2.4 / 3.1.4; every [out] union is
 * non-encapsulated, so its discriminant (the level) precedes the arm.
 */
import { Status, fail } from '../protocol/status.js';
import { WError } from './constants.js';
import type { RpcContext, RpcInterface, RpcOperation, RpcShare } from './interface.js';
import type { NdrReader, NdrWriter } from './ndr.js';

const PLATFORM_ID_NT = 500;
/** What the server claims to be; Samba announces 6.1 (Windows 7 / 2008 R2). */
const VERSION_MAJOR = 6;
const VERSION_MINOR = 1;
/** SV_TYPE_WORKSTATION | SV_TYPE_SERVER | SV_TYPE_SERVER_UNIX | SV_TYPE_NT | SV_TYPE_SERVER_NT ([MS-SRVS] 2.2.2.7), as Samba without printers. */
const SERVER_TYPE = 0x00000001 | 0x00000002 | 0x00000800 | 0x00001000 | 0x00008000;
const STYPE_MASK = 0x0fffffff;
const STYPE_SPECIAL = 0x80000000;
const STYPE_IPC = 3;
/** SHARE_INFO_2 shi2_max_uses: no limit. */
const MAX_USES_UNLIMITED = 0xffffffff;

const OPNUM_NETR_SHARE_ENUM = 15;
const OPNUM_NETR_SHARE_GET_INFO = 16;
const OPNUM_NETR_SERVER_GET_INFO = 21;
const OPNUM_NETR_SHARE_ENUM_STICKY = 36;

/** Windows-style local path clients show for a share; we have no drive letters, so it is nominal. */
function sharePath(share: RpcShare): string {
  return (share.type & STYPE_MASK) === STYPE_IPC ? '' : `C:\\${share.name}`;
}

/** Writes one SHARE_INFO_<level> structure's scalars; its strings go to the writer's deferred queue. */
type ShareInfoWriter = (w: NdrWriter, share: RpcShare) => void;

/** shi*_name .. shi*_passwd, common to levels 2, 502 and 503. */
function level2(w: NdrWriter, s: RpcShare): NdrWriter {
  return w
    .wstringPtr(s.name)
    .u32(s.type)
    .wstringPtr(s.comment)
    .u32(0) // permissions: only meaningful for share-level security
    .u32(MAX_USES_UNLIMITED)
    .u32(0) // current uses
    .wstringPtr(sharePath(s))
    .wstringPtr(undefined); // password
}

/** A security descriptor length and pointer (SHARE_INFO_502_I, sec_desc_buf): none, i.e. no access restriction. */
function noSecurityDescriptor(w: NdrWriter): NdrWriter {
  return w.u32(0).pointer(undefined);
}

const SHARE_INFO_WRITERS = new Map<number, ShareInfoWriter>([
  [0, (w, s) => void w.wstringPtr(s.name)],
  [1, (w, s) => void w.wstringPtr(s.name).u32(s.type).wstringPtr(s.comment)],
  [2, (w, s) => void level2(w, s)],
  [501, (w, s) => void w.wstringPtr(s.name).u32(s.type).wstringPtr(s.comment).u32(0)],
  [502, (w, s) => void noSecurityDescriptor(level2(w, s))],
  // "*": the share is not scoped to one server name ([MS-SRVS] 2.2.4.27).
  [503, (w, s) => void noSecurityDescriptor(level2(w, s).wstringPtr('*'))],
  [1004, (w, s) => void w.wstringPtr(s.comment)],
  [1005, (w) => void w.u32(0)],
  [1006, (w) => void w.u32(MAX_USES_UNLIMITED)],
  [1007, (w) => void w.u32(0).wstringPtr(undefined)],
  [1501, (w) => void noSecurityDescriptor(w)],
]);

/** Levels NetrShareEnum answers ([MS-SRVS] 3.1.4.8); other arms of its union get a NULL container. */
const ENUM_LEVELS = new Set([0, 1, 2, 501, 502, 503]);

/**
 * Scalar layout of SHARE_INFO_<level> elements a client may send in NetrShareEnum's [in]
 * container: 'u' a 32-bit integer, 'p' a string pointer, 's' a pointer to a conformant
 * byte array (security descriptor). Clients normally send an empty container, but a
 * non-empty one must still be stepped over to reach the next parameter.
 */
const INPUT_LAYOUTS = new Map<number, string>([
  [0, 'p'],
  [1, 'pup'],
  [2, 'pupuuupp'],
  [501, 'pupu'],
  [502, 'pupuuuppus'],
  [503, 'pupuuupppus'],
  [1004, 'p'],
  [1005, 'u'],
  [1006, 'u'],
  [1007, 'up'],
  [1501, 'us'],
]);

function skipShareContainer(r: NdrReader, level: number): void {
  r.u32(); // EntriesRead
  if (r.pointer() === 0) return;
  const layout = INPUT_LAYOUTS.get(level);
  if (layout === undefined) fail(Status.INVALID_PARAMETER, `cannot skip level ${level} container`);
  const count = r.u32();
  const pointees: string[] = [];
  for (let i = 0; i < count; i++) {
    for (const field of layout) {
      const v = r.u32();
      if (field !== 'u' && v !== 0) pointees.push(field);
    }
  }
  for (const kind of pointees) {
    if (kind === 'p') r.wstring();
    else r.bytes(r.u32());
  }
}

function findShare(ctx: RpcContext, name: string): RpcShare | undefined {
  const wanted = name.toLowerCase();
  return ctx.listShares().find((s) => s.name.toLowerCase() === wanted);
}

/**
 * NetrShareEnum ([MS-SRVS] 3.1.4.8) lists every share, hidden ones included. NetrShareEnumSticky
 * (opnum 36, what Samba calls NetShareEnum) lists the persistent ones; like Samba we take that
 * to mean the browseable ones, without the STYPE_SPECIAL bit.
 */
function shareEnum(includeHidden: boolean): RpcOperation {
  return (r, w, ctx) => {
    r.uniqueWstring(); // ServerName: always this server
    const level = r.u32();
    if (r.u32() !== level) fail(Status.INVALID_PARAMETER, 'union discriminant differs from level');
    if (r.pointer() !== 0) skipShareContainer(r, level);
    r.u32(); // PreferedMaximumLength: everything fits in one answer
    const hasResume = r.pointer() !== 0;
    const resume = hasResume ? r.u32() : 0;

    const shares = ctx.listShares().filter((s) => includeHidden || (s.type & STYPE_SPECIAL) === 0);
    const page = resume < shares.length ? shares.slice(resume) : [];
    const writeInfo = ENUM_LEVELS.has(level) ? SHARE_INFO_WRITERS.get(level) : undefined;

    w.u32(level).u32(level);
    if (writeInfo) {
      w.pointer(() => {
        w.u32(page.length);
        w.pointer(
          page.length === 0
            ? undefined
            : () => {
                w.u32(page.length);
                for (const share of page) writeInfo(w, share);
              },
        );
      });
    } else if (SHARE_INFO_WRITERS.has(level)) {
      w.pointer(undefined); // an arm of the container union, but not one enumeration serves
    }
    w.flush();
    w.u32(writeInfo ? shares.length : 0);
    // The whole list went out: the resume handle restarts at 0.
    w.pointer(hasResume ? () => w.u32(0) : undefined).flush();
    w.u32(writeInfo ? WError.OK : WError.INVALID_LEVEL);
  };
}

/** NetrShareGetInfo ([MS-SRVS] 3.1.4.10). */
const netrShareGetInfo: RpcOperation = (r, w, ctx) => {
  r.uniqueWstring();
  const name = r.wstring();
  const level = r.u32();
  const share = findShare(ctx, name);
  const writeInfo = SHARE_INFO_WRITERS.get(level);
  w.u32(level);
  if (!share) {
    if (writeInfo) w.pointer(undefined);
    w.u32(WError.NERR_NET_NAME_NOT_FOUND);
    return;
  }
  if (!writeInfo) {
    w.u32(WError.INVALID_LEVEL);
    return;
  }
  w.pointer(() => writeInfo(w, share)).flush();
  w.u32(WError.OK);
};

/**
 * Arms of the SERVER_INFO union ([MS-SRVS] 2.2.3.7): an unserved one still carries a NULL
 * pointer on the wire, unlike a level the union does not know.
 */
const SERVER_INFO_ARMS = new Set([
  102, 103, 402, 403, 502, 503, 599, 1005, 1010, 1016, 1017, 1018, 1107, 1501, 1502, 1503, 1506, 1509, 1510, 1511, 1512,
  1513, 1514, 1515, 1516, 1518, 1520, 1521, 1522, 1523, 1524, 1525, 1528, 1529, 1530, 1533, 1534, 1535, 1536, 1537, 1538,
  1539, 1540, 1541, 1542, 1543, 1544, 1545, 1546, 1547, 1548, 1549, 1550, 1552, 1553, 1554, 1555, 1556,
]);

/** NetrServerGetInfo ([MS-SRVS] 3.1.4.17), levels 100, 101 and 102. */
const netrServerGetInfo: RpcOperation = (r, w, ctx) => {
  r.uniqueWstring();
  const level = r.u32();
  const common = () => w.u32(PLATFORM_ID_NT).wstringPtr(ctx.serverName);
  const level101 = () => common().u32(VERSION_MAJOR).u32(VERSION_MINOR).u32(SERVER_TYPE).wstringPtr('');
  w.u32(level);
  switch (level) {
    case 100:
      w.pointer(() => void common());
      break;
    case 101:
      w.pointer(() => void level101());
      break;
    case 102:
      w.pointer(() => {
        level101();
        // users, disc(onnect minutes), hidden, announce, anndelta, licenses, userpath: Samba's defaults
        w.u32(0xffffffff).u32(15).u32(0).u32(240).u32(3000).u32(100000).wstringPtr('C:\\');
      });
      break;
    default:
      if (SERVER_INFO_ARMS.has(level)) w.pointer(undefined);
      w.u32(WError.INVALID_LEVEL);
      return;
  }
  w.flush();
  w.u32(WError.OK);
};

export const SRVSVC: RpcInterface = {
  name: 'srvsvc',
  syntax: { uuid: '4b324fc8-1670-01d3-1278-5a47bf6ee188', major: 3, minor: 0 },
  operations: new Map([
    [OPNUM_NETR_SHARE_ENUM, shareEnum(true)],
    [OPNUM_NETR_SHARE_ENUM_STICKY, shareEnum(false)],
    [OPNUM_NETR_SHARE_GET_INFO, netrShareGetInfo],
    [OPNUM_NETR_SERVER_GET_INFO, netrServerGetInfo],
  ]),
};
