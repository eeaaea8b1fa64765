/**
 * Time for the emulated NIC: flow timeouts, durations and last-used stamps.
 * `now()` is monotonic milliseconds (possibly fractional) from an arbitrary
 * origin: only differences mean anything. Tests drive a ManualClock.
 */

export interface Clock {
  /** Milliseconds since the clock's origin; never decreases. */
  now(): number;
}

/**
 * A monotonic clock on performance.now() (read for every packet: no BigInt
 * to allocate, unlike process.hrtime.bigint()), with its origin at
 * construction (so stamps stay small).
 */
export class SystemClock implements Clock {
  private readonly origin = performance.now();

  now(): number {
    return performance.now() - this.origin;
  }
}

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  constructor(private t = 0) {}

  now(): number {
    return this.t;
  }

  /** Moves the clock forward by `ms` (≥ 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock cannot go back (advance ${ms})`);
    this.t += ms;
  }

  /** Sets the clock to `ms`, which must not be earlier than now. */
  set(ms: number): void {
    if (!(ms >= this.t)) throw new RangeError(`ManualClock cannot go back from ${this.t} to ${ms}`);
    this.t = ms;
  }
}

/** A duration in milliseconds as OpenFlow's duration_sec + duration_nsec. */
export function splitDuration(ms: number): { sec: number; nsec: number } {
  const d = ms > 0 ? ms : 0;
  const sec = Math.floor(d / 1000);
  const nsec = Math.min(999_999_999, Math.round((d - sec * 1000) * 1e6));
  return { sec, nsec };
}
