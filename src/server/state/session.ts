import type { Connection } from '../connection.js';
import type { TreeConnect } from './tree.js';
import type { Open } from './open.js';
import type { Signer } from '../../crypto/index.js';
import type { PreauthHash } from '../../crypto/index.js';
import type { SpnegoNtlmAcceptor } from '../../auth/index.js';

/** Per-connection view of a session ([MS-SMB2] 3.3.1.14 Channel): each channel signs with its own key. */
export interface Channel {
  connection: Connection;
  signingKey: Buffer;
  signer?: Signer;
  /** A session bind in progress on this connection ([MS-SMB2] 3.3.5.5.2). */
  binding?: { authenticator: SpnegoNtlmAcceptor; preauth?: PreauthHash };
}

export type SessionState = 'in-progress' | 'valid' | 'expired';

export interface SessionIdentity {
  user: string;
  domain: string;
  isGuest: boolean;
  isAnonymous: boolean;
}

/**
 * An authenticated user session ([MS-SMB2] 3.3.1.8). It belongs to the Client (ClientGUID), not to one
 * connection: channels bind several connections to it, and its trees and opens are valid on all of them.
 */
export class Session {
  state: SessionState = 'in-progress';
  identity?: SessionIdentity;
  dialect = 0;
  sessionKey = Buffer.alloc(0);
  /** The channel-independent signing key (first channel); bound channels carry their own in Channel. */
  signingKey = Buffer.alloc(0);
  encryptionKey = Buffer.alloc(0);
  decryptionKey = Buffer.alloc(0);
  applicationKey = Buffer.alloc(0);
  cipherId = 0;
  signingAlgorithmId = 0;
  signingRequired = false;
  encryptData = false;
  readonly channels = new Map<Connection, Channel>();
  /** Requests still running after their channel died (R8): they end with the session. */
  readonly orphans = new Set<{ abort: AbortController }>();
  readonly trees = new Map<number, TreeConnect>();
  readonly opens = new Map<bigint, Open>();
  /** 3.1.1 pre-auth integrity hash for this session's setup exchange. */
  preauth?: PreauthHash;
  /** The authentication exchange in progress, if any. */
  authenticator?: SpnegoNtlmAcceptor;
  private nextTreeId = 1;
  readonly createdAt = Date.now();

  constructor(readonly id: bigint) {}

  allocateTreeId(): number {
    for (;;) {
      const id = this.nextTreeId;
      this.nextTreeId = this.nextTreeId >= 0xfffffffe ? 1 : this.nextTreeId + 1;
      if (!this.trees.has(id)) return id;
    }
  }

  get isValid(): boolean {
    return this.state === 'valid';
  }

  /** Whether requests on this session are exempt from signing (guest/anonymous have no key). */
  get hasSigningKey(): boolean {
    return this.signingKey.length > 0;
  }
}
