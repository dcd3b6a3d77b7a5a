/** What a copy reports as it goes. */
export interface ProgressSink {
  /** `done` bytes of `total` are at the destination; `channels` carry the session now. */
  update(done: number, channels: number): void;
  /** A note between updates (a retry, a resume). */
  note(text: string): void;
  finish(done: number, channels: number): void;
}

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
export function formatBytes(n: number): string {
  let i = 0;
  let v = n;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${Math.round(n)} B` : `${v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[i]}`;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const t = Math.round(s);
  const h = Math.floor(t / 3600);
  const mm = String(Math.floor((t % 3600) / 60)).padStart(2, '0');
  const ss = String(t % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * On a terminal a bar redrawn in place (at most 10 times a second): percentage, bytes, rate over
 * the last few seconds, time left, channels in use. Elsewhere (a log, a pipe) one plain line per
 * 10% and a last line, so that a log stays readable.
 */
export function progressReporter(out: ProgressStream, total: number, startAt = 0, now: () => number = Date.now): ProgressSink {
  const t0 = now();
  const samples: Array<[number, number]> = [[t0, startAt]];
  let lastDraw = 0;
  let lastTenth = Math.floor((startAt * 10) / Math.max(1, total));
  const rate = (done: number): number => {
    const t = now();
    samples.push([t, done]);
    while (samples.length > 2 && t - samples[0]![0] > 5000) samples.shift();
    const [ts, bs] = samples[0]!;
    return t > ts ? ((done - bs) * 1000) / (t - ts) : 0;
  };
  const avg = (done: number) => ((done - startAt) * 1000) / Math.max(1, now() - t0);
  const pct = (done: number) => (total ? Math.floor((done * 100) / total) : 100);
  const stats = (done: number, r: number, channels: number) =>
    `${formatBytes(done)} of ${formatBytes(total)}, ${formatBytes(r)}/s, ${channels} channel${channels === 1 ? '' : 's'}`;
  const bar = (done: number, r: number, channels: number, when = `${formatDuration(r > 0 ? (total - done) / r : NaN)} left`) => {
    const tail = ` ${String(pct(done)).padStart(3)}% ${stats(done, r, channels)}, ${when}`;
    const width = Math.max(10, Math.min(40, (out.columns ?? 100) - tail.length - 3));
    const filled = total ? Math.round((done / total) * width) : width;
    return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`;
  };
  return {
    update(done, channels) {
      const r = rate(done);
      if (out.isTTY) {
        if (now() - lastDraw < 100) return;
        lastDraw = now();
        out.write(`\r${bar(done, r, channels)}\x1b[K`);
      } else {
        const tenth = Math.floor((done * 10) / Math.max(1, total));
        if (tenth === lastTenth || done >= total) return;
        lastTenth = tenth;
        out.write(`${pct(done)}% ${stats(done, r, channels)}\n`);
      }
    },
    note(text) {
      out.write(out.isTTY ? `\r\x1b[K${text}\n` : `${text}\n`);
    },
    finish(done, channels) {
      const took = formatDuration((now() - t0) / 1000);
      out.write(out.isTTY ? `\r${bar(done, avg(done), channels, `in ${took}`)}\x1b[K\n` : `done: ${pct(done)}% ${stats(done, avg(done), channels)} in ${took}\n`);
    },
  };
}
