/** What the durable table needs of an open. */
export interface DurableEntry {
  readonly persistentId: bigint;
  durableTimeoutMs: number;
  disconnected: boolean;
}

/** Durable v1 keeps a disconnected open 16 minutes, as Samba does. */
export const DURABLE_V1_TIMEOUT_MS = 16 * 60 * 1000;
/** Durable v2: the client's timeout, capped at 5 minutes; 0 means the 1 minute Windows uses. */
export const DURABLE_V2_MAX_TIMEOUT_MS = 300 * 1000;
export const DURABLE_V2_DEFAULT_TIMEOUT_MS = 60 * 1000;

export function durableV2Timeout(requested: number): number {
  const t = Math.min(requested, DURABLE_V2_MAX_TIMEOUT_MS);
  return t === 0 ? DURABLE_V2_DEFAULT_TIMEOUT_MS : t;
}

/** A CREATE with a CreateGuid still running: replays wait for its outcome. */
interface Reservation<O> {
  promise: Promise<O | undefined>;
  resolve: (open: O | undefined) => void;
}

/**
 * The server's durable opens ([MS-SMB2] 3.3.1.5 GlobalOpenTable as far as durability goes): disconnected
 * opens wait here for a reconnect until their timeout, and CreateGuids map to opens for replays.
 */
export class DurableTable<O extends DurableEntry> {
  private readonly byId = new Map<bigint, O>();
  private readonly timers = new Map<O, NodeJS.Timeout>();
  private readonly byCreateGuid = new Map<string, O>();
  private readonly createKeyOf = new Map<O, string>();
  private readonly reserved = new Map<string, Reservation<O>>();

  add(open: O): void {
    this.byId.set(open.persistentId, open);
  }

  get(persistentId: bigint): O | undefined {
    return this.byId.get(persistentId);
  }

  /** The open's client went away: keep it `durableTimeoutMs`, then `expire` (closes it). */
  disconnect(open: O, expire: (open: O) => void): void {
    open.disconnected = true;
    this.clearTimer(open);
    const t = setTimeout(() => {
      this.timers.delete(open);
      expire(open);
    }, open.durableTimeoutMs);
    t.unref();
    this.timers.set(open, t);
  }

  /** A reconnect took the open back. */
  reattach(open: O): void {
    open.disconnected = false;
    this.clearTimer(open);
  }

  /** The open is closed for good. */
  remove(open: O): void {
    this.clearTimer(open);
    if (this.byId.get(open.persistentId) === open) this.byId.delete(open.persistentId);
    this.forgetCreate(open);
  }

  get size(): number {
    return this.byId.size;
  }

  private clearTimer(open: O): void {
    const t = this.timers.get(open);
    if (t) clearTimeout(t);
    this.timers.delete(open);
  }

  // Replay detection by CreateGuid ([MS-SMB2] 3.3.5.9.10), scoped per client.

  /** The open created with this CreateGuid, or the CREATE still producing it. */
  lookupCreate(clientGuid: string, createGuid: Buffer): { open?: O; pending?: Promise<O | undefined> } {
    const k = key(clientGuid, createGuid);
    const open = this.byCreateGuid.get(k);
    if (open) return { open };
    const r = this.reserved.get(k);
    return r ? { pending: r.promise } : {};
  }

  /** Marks a CreateGuid in progress; call the result with the open (or undefined on failure). */
  reserve(clientGuid: string, createGuid: Buffer): (open: O | undefined) => void {
    const k = key(clientGuid, createGuid);
    let resolve!: (o: O | undefined) => void;
    const promise = new Promise<O | undefined>((r) => (resolve = r));
    this.reserved.set(k, { promise, resolve });
    return (open) => {
      this.reserved.delete(k);
      if (open) {
        this.byCreateGuid.set(k, open);
        this.createKeyOf.set(open, k);
      }
      resolve(open);
    };
  }

  /**
   * Drops the CreateGuid of an open: once the client used the handle it has seen the CREATE's
   * answer, so a later CREATE with that CreateGuid is a new open, not a replay (as Samba does).
   */
  forgetCreate(open: O): void {
    const k = this.createKeyOf.get(open);
    if (k === undefined) return;
    this.createKeyOf.delete(open);
    if (this.byCreateGuid.get(k) === open) this.byCreateGuid.delete(k);
  }
}

function key(clientGuid: string, createGuid: Buffer): string {
  return `${clientGuid}:${createGuid.toString('hex')}`;
}
