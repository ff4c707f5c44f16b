// Arrival times in microseconds that strictly increase within a process. A delivery's job runs
// at (is ordered by) its arrival time, and two requests in the same millisecond must not tie:
// graphile-worker would then be free to run them in either order.
let last = 0n;

export interface Arrival {
  date: Date;
  /** ISO 8601 with microseconds, for Postgres */
  iso: string;
}

export function arrivalTime(): Arrival {
  const now = BigInt(Date.now()) * 1000n;
  last = now > last ? now : last + 1n; // a backwards wall-clock step keeps counting up
  const ms = Number(last / 1000n);
  const micros = String(last % 1000n).padStart(3, '0');
  return { date: new Date(ms), iso: new Date(ms).toISOString().replace('Z', `${micros}Z`) };
}
