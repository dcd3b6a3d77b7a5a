/** Workstation Service Remote Protocol ([MS-WKST]): just NetrWkstaGetInfo, which browsers ask first. */
import { WError } from './constants.js';
import type { RpcInterface, RpcOperation } from './interface.js';

const PLATFORM_ID_NT = 500;
const VERSION_MAJOR = 6;
const VERSION_MINOR = 1;
const OPNUM_NETR_WKSTA_GET_INFO = 0;
/**
 * Arms of the WKSTA_INFO union that we do not serve: they still carry a (NULL) pointer on
 * the wire, unlike levels the union does not know at all.
 */
const OTHER_UNION_ARMS = new Set([502, 1010, 1011, 1012, 1013, 1018, 1023, 1027, 1033]);

/** NetrWkstaGetInfo ([MS-WKST] 3.2.4.1), levels 100, 101 and 102 ([MS-WKST] 2.2.5.1-2.2.5.3). */
const netrWkstaGetInfo: RpcOperation = (r, w, ctx) => {
  r.uniqueWstring();
  const level = r.u32();
  const level100 = () =>
    w.u32(PLATFORM_ID_NT).wstringPtr(ctx.serverName).wstringPtr(ctx.domain).u32(VERSION_MAJOR).u32(VERSION_MINOR);
  w.u32(level);
  switch (level) {
    case 100:
      w.pointer(() => void level100());
      break;
    case 101:
      w.pointer(() => void level100().wstringPtr(''));
      break;
    case 102:
      w.pointer(() => void level100().wstringPtr('').u32(0));
      break;
    default:
      if (OTHER_UNION_ARMS.has(level)) w.pointer(undefined);
      w.u32(WError.INVALID_LEVEL);
      return;
  }
  w.flush();
  w.u32(WError.OK);
};

export const WKSSVC: RpcInterface = {
  name: 'wkssvc',
  syntax: { uuid: '6bffd098-a112-3610-9833-46c3f87e345a', major: 1, minor: 0 },
  operations: new Map([[OPNUM_NETR_WKSTA_GET_INFO, netrWkstaGetInfo]]),
};
