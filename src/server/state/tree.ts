import type { Session } from './session.js';
import type { Share } from '../shares.js';

/** A tree connect ([MS-SMB2] 3.3.1.10): a session's use of one share. */
export class TreeConnect {
  /** Opens on this tree, by volatile id (also listed in Session.opens). */
  readonly opens = new Set<bigint>();
  constructor(
    readonly id: number,
    readonly session: Session,
    readonly share: Share,
    readonly maximalAccess: number,
    readonly encryptData: boolean,
  ) {}
}
