/**
 * The meter table (OpenFlow 1.3.5 §5.7, §7.3.4.4): per-flow rate limiters.
 *
 * Each band is a token bucket on the instance's Clock, filled at the band's
 * rate up to its burst size. A packet conforms to a band when the band's
 * bucket holds enough tokens for it (which it then takes); the band that
 * applies to a packet is the one of highest rate among those the packet
 * exceeds. DROP bands drop it; DSCP_REMARK bands raise the drop precedence
 * of its DSCP (the pipeline rewrites the header). A meter with no exceeded
 * band lets the packet through unchanged.
 *
 * No I/O: the instance turns meter-mods into calls here and the results into
 * messages; deleting the flows that use a deleted meter is its business.
 */
import {
  MeterBand,
  MeterConfig,
  MeterFeatures,
  MeterMod,
  MeterStats,
  OFPET,
  OFPM,
  OFPMBT,
  OFPMC,
  OFPMF,
  OFPMMFC,
  OfpError,
} from '@nicvisor/openflow';
import { Clock, splitDuration } from './clock.js';

export interface MeterTableOptions {
  /** Meters the table holds at most (OFPMMFC_OUT_OF_METERS beyond). Default 65536. */
  maxMeters?: number;
  /** Bands per meter at most (OFPMMFC_OUT_OF_BANDS beyond). Default 16. */
  maxBands?: number;
}

/** Burst when a meter has no OFPMF_BURST: this much of the rate's worth of time (ms)... */
const DEFAULT_BURST_MS = 100;
/** ...but at least one maximum-size frame (a VLAN-tagged 1518-byte one, bits) or one packet. */
const MIN_BURST_BITS = 1522 * 8;
const MIN_BURST_PACKETS = 1;

const ALL_FLAGS = OFPMF.KBPS | OFPMF.PKTPS | OFPMF.BURST | OFPMF.STATS;

/** A band with its token bucket and counters. */
export class BandState {
  /** Bucket size, in bits (KBPS) or packets (PKTPS). */
  readonly capacity: number;
  /** Tokens added per millisecond. */
  readonly perMs: number;
  tokens: number;
  packetCount = 0;
  byteCount = 0;

  constructor(
    readonly band: MeterBand,
    pktps: boolean,
    burst: boolean,
  ) {
    if (pktps) {
      this.perMs = band.rate / 1000;
      this.capacity = burst && band.burstSize > 0 ? band.burstSize : Math.max(MIN_BURST_PACKETS, (band.rate * DEFAULT_BURST_MS) / 1000);
    } else {
      // kb/s is bits per millisecond.
      this.perMs = band.rate;
      this.capacity = burst && band.burstSize > 0 ? band.burstSize * 1000 : Math.max(MIN_BURST_BITS, band.rate * DEFAULT_BURST_MS);
    }
    this.tokens = this.capacity;
  }
}

export class Meter {
  /** The bands' buckets, in configuration order. */
  readonly bands: BandState[];
  readonly pktps: boolean;
  packetInCount = 0;
  byteInCount = 0;
  private lastRefill: number;

  constructor(
    readonly meterId: number,
    readonly flags: number,
    /** The bands as configured, in the meter-mod's order (for meter-config replies). */
    readonly config: readonly MeterBand[],
    readonly createdAt: number,
  ) {
    this.pktps = (flags & OFPMF.PKTPS) !== 0;
    const burst = (flags & OFPMF.BURST) !== 0;
    this.bands = config.map((b) => new BandState(b, this.pktps, burst));
    this.lastRefill = createdAt;
  }

  /** The band's state for a configured band index (meter stats list bands in configuration order). */
  bandStats(): { packetBandCount: bigint; byteBandCount: bigint }[] {
    return this.bands.map((b) => ({ packetBandCount: BigInt(b.packetCount), byteBandCount: BigInt(b.byteCount) }));
  }

  /**
   * Meters one packet of `bytes` bytes at `now`: returns the band that
   * applies to it, or undefined when it conforms to every band.
   */
  offer(bytes: number, now: number): MeterBand | undefined {
    this.packetInCount++;
    this.byteInCount += bytes;
    const elapsed = now - this.lastRefill;
    this.lastRefill = now;
    const cost = this.pktps ? 1 : bytes * 8;
    let hit: BandState | undefined;
    for (const b of this.bands) {
      if (elapsed > 0) b.tokens = Math.min(b.capacity, b.tokens + elapsed * b.perMs);
      if (b.tokens >= cost) b.tokens -= cost;
      else if (hit === undefined || b.band.rate > hit.band.rate) hit = b;
    }
    if (hit === undefined) return undefined;
    hit.packetCount++;
    hit.byteCount += bytes;
    return hit.band;
  }
}

function fail(code: number, detail: string): OfpError {
  return new OfpError(OFPET.METER_MOD_FAILED, code, detail);
}

/**
 * A DSCP with its drop precedence raised by `precLevel` (RFC 2597: the
 * precedence is DSCP bits 2-1, 1 = low, 3 = high), capped at 3.
 */
export function remarkDscp(dscp: number, precLevel: number): number {
  const drop = Math.min(3, ((dscp >>> 1) & 3) + precLevel);
  return (dscp & ~0b110) | (drop << 1);
}

export class MeterTable {
  readonly maxMeters: number;
  readonly maxBands: number;
  private readonly meters = new Map<number, Meter>();

  constructor(
    private readonly clock: Clock,
    opts: MeterTableOptions = {},
  ) {
    this.maxMeters = opts.maxMeters ?? 65536;
    this.maxBands = opts.maxBands ?? 16;
  }

  get size(): number {
    return this.meters.size;
  }

  get(meterId: number): Meter | undefined {
    return this.meters.get(meterId);
  }

  /** Every meter, in ascending id order. */
  all(): Meter[] {
    return [...this.meters.values()].sort((a, b) => a.meterId - b.meterId);
  }

  /**
   * Applies a meter-mod; throws OfpError (OFPET_METER_MOD_FAILED) without
   * changing anything. Returns the ids of the meters it deleted (whose
   * flows the caller removes).
   */
  apply(mm: Pick<MeterMod, 'command' | 'flags' | 'meterId' | 'bands'>, now: number = this.clock.now()): { deleted: number[] } {
    const id = mm.meterId >>> 0;
    switch (mm.command) {
      case OFPMC.ADD:
      case OFPMC.MODIFY: {
        if (id === 0 || id > OFPM.MAX) {
          // OFPM_SLOWPATH and OFPM_CONTROLLER are virtual meters this NIC does not have.
          throw fail(OFPMMFC.INVALID_METER, `meter id 0x${id.toString(16)} cannot be configured`);
        }
        const existing = this.meters.get(id);
        if (mm.command === OFPMC.ADD && existing !== undefined) throw fail(OFPMMFC.METER_EXISTS, `meter ${id} exists`);
        if (mm.command === OFPMC.MODIFY && existing === undefined) throw fail(OFPMMFC.UNKNOWN_METER, `meter ${id} does not exist`);
        this.check(mm);
        if (existing === undefined && this.meters.size >= this.maxMeters) throw fail(OFPMMFC.OUT_OF_METERS, `${this.maxMeters} meters in use`);
        const flags = (mm.flags & (OFPMF.KBPS | OFPMF.PKTPS)) === 0 ? mm.flags | OFPMF.KBPS : mm.flags;
        const meter = new Meter(id, flags, mm.bands.map((b) => ({ ...b })), existing?.createdAt ?? now);
        if (existing !== undefined) {
          // A modified meter keeps its meter-level counters; its bands are new.
          meter.packetInCount = existing.packetInCount;
          meter.byteInCount = existing.byteInCount;
        }
        this.meters.set(id, meter);
        return { deleted: [] };
      }
      case OFPMC.DELETE: {
        if (id === OFPM.ALL) {
          const deleted = [...this.meters.keys()];
          this.meters.clear();
          return { deleted };
        }
        if (id === 0 || (id > OFPM.MAX && id !== OFPM.ALL)) throw fail(OFPMMFC.INVALID_METER, `meter id 0x${id.toString(16)}`);
        // Deleting a meter that is not there is not an error (as for groups and flows).
        return { deleted: this.meters.delete(id) ? [id] : [] };
      }
      default:
        throw fail(OFPMMFC.BAD_COMMAND, `meter-mod command ${mm.command}`);
    }
  }

  private check(mm: Pick<MeterMod, 'flags' | 'bands'>): void {
    if ((mm.flags & ~ALL_FLAGS) !== 0) throw fail(OFPMMFC.BAD_FLAGS, `unknown meter flags 0x${mm.flags.toString(16)}`);
    if ((mm.flags & OFPMF.KBPS) !== 0 && (mm.flags & OFPMF.PKTPS) !== 0) throw fail(OFPMMFC.BAD_FLAGS, 'both KBPS and PKTPS');
    if (mm.bands.length > this.maxBands) throw fail(OFPMMFC.OUT_OF_BANDS, `${mm.bands.length} bands, at most ${this.maxBands}`);
    const burst = (mm.flags & OFPMF.BURST) !== 0;
    for (const b of mm.bands) {
      if (b.type !== OFPMBT.DROP && b.type !== OFPMBT.DSCP_REMARK) throw fail(OFPMMFC.BAD_BAND, `band type ${b.type} is not supported`);
      if (b.rate === 0) throw fail(OFPMMFC.BAD_RATE, 'band rate 0');
      if (burst && b.burstSize === 0) throw fail(OFPMMFC.BAD_BURST, 'OFPMF_BURST with burst size 0');
    }
  }

  /** Meter stats for one meter or OFPM_ALL; `flowCount` counts the flow entries using a meter. */
  stats(meterId: number, flowCount: (id: number) => number, now: number = this.clock.now()): MeterStats[] {
    return this.pick(meterId).map((m) => {
      const d = splitDuration(now - m.createdAt);
      return {
        meterId: m.meterId,
        flowCount: flowCount(m.meterId),
        packetInCount: BigInt(m.packetInCount),
        byteInCount: BigInt(m.byteInCount),
        durationSec: d.sec,
        durationNsec: d.nsec,
        bandStats: m.bandStats(),
      };
    });
  }

  config(meterId: number): MeterConfig[] {
    return this.pick(meterId).map((m) => ({ flags: m.flags, meterId: m.meterId, bands: m.config.map((b) => ({ ...b })) }));
  }

  features(): MeterFeatures {
    return {
      maxMeter: this.maxMeters,
      bandTypes: (1 << OFPMBT.DROP) | (1 << OFPMBT.DSCP_REMARK),
      capabilities: ALL_FLAGS,
      maxBands: this.maxBands,
      maxColor: 0,
    };
  }

  private pick(meterId: number): Meter[] {
    const id = meterId >>> 0;
    if (id === OFPM.ALL) return this.all();
    const m = this.meters.get(id);
    return m === undefined ? [] : [m];
  }

  clear(): void {
    this.meters.clear();
  }
}
