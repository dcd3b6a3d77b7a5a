/**
 * The credit window of one connection ([MS-SMB2] 3.3.1.1 CommandSequenceWindow, 3.3.5.2.3).
 * Message ids the client may use are [low, high) minus those already consumed; every response
 * grants more by moving `high`. Consumed ids above `low` are tracked until the gap closes.
 */
export class CreditWindow {
  private low = 0n;
  private high = 1n;
  private readonly used = new Set<bigint>();

  constructor(private readonly maxCredits: number) {}

  /** Credits the client holds: ids granted and not yet used. */
  get outstanding(): number {
    return Number(this.high - this.low) - this.used.size;
  }

  /** Consumes ids [messageId, messageId+charge); false when any is outside the window or reused. */
  consume(messageId: bigint, charge: number): boolean {
    const n = BigInt(Math.max(charge, 1));
    if (messageId < this.low || messageId + n > this.high) return false;
    // In order with nothing consumed ahead of it (the usual case): a large READ/WRITE charges up to
    // 128 credits, and the set below would take (and free) every one of them.
    if (messageId === this.low && this.used.size === 0) {
      this.low += n;
      return true;
    }
    for (let i = 0n; i < n; i++) if (this.used.has(messageId + i)) return false;
    for (let i = 0n; i < n; i++) this.used.add(messageId + i);
    while (this.used.has(this.low)) {
      this.used.delete(this.low);
      this.low++;
    }
    return true;
  }

  /**
   * Grants what a response carries, as Windows Server 2016+ and Samba do: the credits the request spent
   * back, plus what it asked for beyond one ([MS-SMB2] 3.3.1.2), never beyond `maxCredits` outstanding and
   * never leaving the client with none. NEGOTIATE gets only its charge back, SESSION_SETUP more only once
   * it succeeded.
   */
  grant(requested: number, charge: number, extra: 'all' | 'none' = 'all'): number {
    const spent = Math.max(charge, 1);
    const additional = extra === 'all' ? Math.max(requested, 1) - 1 : 0;
    const room = Math.max(this.maxCredits - this.outstanding, 0);
    let n = Math.min(spent + additional, room);
    if (n === 0 && this.outstanding === 0) n = 1;
    this.high += BigInt(n);
    return n;
  }

  /** Skips id 0 after an SMB1 negotiate answered with the wildcard dialect. */
  reset(low: bigint, high: bigint): void {
    this.low = low;
    this.high = high;
    this.used.clear();
  }
}
