import type { ExtraEntry, ExtraKind, ExtraStore } from './types.js';

/** An in-memory ExtraStore (the memory backend keeps one per file). */
export class MapExtraStore implements ExtraStore {
  private readonly values = new Map<string, Buffer>();

  private static key(kind: ExtraKind, name: string): string {
    return `${kind}:${name}`;
  }

  list(kind: ExtraKind): ExtraEntry[] {
    const prefix = `${kind}:`;
    const out: ExtraEntry[] = [];
    for (const [k, v] of this.values) if (k.startsWith(prefix)) out.push({ name: k.slice(prefix.length), size: v.length });
    return out;
  }

  get(kind: ExtraKind, name: string): Buffer | null {
    const v = this.values.get(MapExtraStore.key(kind, name));
    return v ? Buffer.from(v) : null;
  }

  set(kind: ExtraKind, name: string, value: Buffer): void {
    this.values.set(MapExtraStore.key(kind, name), Buffer.from(value));
  }

  remove(kind: ExtraKind, name: string): void {
    this.values.delete(MapExtraStore.key(kind, name));
  }

  /** Bytes held, so the memory backend can charge them to its capacity. */
  get bytes(): number {
    let n = 0;
    for (const v of this.values.values()) n += v.length;
    return n;
  }
}
