const EPOCH_DIFF_100NS = 116444736000000000n;

/** Windows FILETIME (100 ns ticks since 1601) from milliseconds since the Unix epoch. */
export function filetimeFromMs(ms: number): bigint {
  return BigInt(Math.round(ms * 10000)) + EPOCH_DIFF_100NS;
}

export function nowFiletime(): bigint {
  return filetimeFromMs(Date.now());
}

/** Milliseconds since the Unix epoch (fractional) from a FILETIME. */
export function msFromFiletime(ft: bigint): number {
  return Number(ft - EPOCH_DIFF_100NS) / 10000;
}
