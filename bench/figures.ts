// What bench/run.ts and bench/multichannel.ts write with --json FILE, for bench/all.ts's report
// and chart. Figures that could not be computed (a zero denominator) are null, as JSON has no NaN.

/** bench/run.ts: smb3d beside smbd through smbclient, medians over the rounds. */
export interface RunFigures {
  /** The line that heads the run's table (date, cores, rounds, sizes). */
  header: string;
  notes: string[];
  figures: Array<{
    key: string;
    label: string;
    unit: string;
    smb3d: number;
    smbd: number;
    /** Half the range of the rounds. */
    spreadSmb3d: number;
    spreadSmbd: number;
    /** smb3d / smbd (of the medians). */
    ratio: number | null;
    /** smb3d / smbd within each round, in round order. */
    roundRatios: Array<number | null>;
    /** The ratio the project aims for (issue 5). */
    target: number;
    met: boolean;
  }>;
}

/** bench/multichannel.ts: our client in the lab, 1 and N channels, and failover. */
export interface MultichannelFigures {
  header: string;
  links: number;
  /** Mbit/s per link; 0 when the links have no rate limit. */
  rateMbit: number;
  aggregate: Array<{
    server: string;
    channels: number;
    putMbit: number;
    getMbit: number;
    /** Percent of the summed link rates; null without a rate limit. */
    putShare: number | null;
    getShare: number | null;
    /** Percent of the summed link rates aimed for (N channels only). */
    target: number | null;
  }>;
  failover: Array<{ server: string; putMbit: number; getMbit: number; roundsOk: number; rounds: number }>;
}

/** JSON's stand-in for a figure that is not a number. */
export const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
