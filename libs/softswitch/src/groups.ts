/**
 * The group table (OpenFlow 1.3.5 §5.6, §6.5, §7.3.4.2): ALL, SELECT,
 * INDIRECT and FAST_FAILOVER groups, group-mod semantics and errors, and
 * group and bucket counters.
 *
 * The group table decides which buckets a packet goes through; running a
 * bucket's actions is the pipeline's work. No I/O: deleting the flow
 * entries that forward to a deleted group is the instance's business.
 *
 * SELECT: a deterministic hash of the packet's flow key picks the bucket,
 * so every packet of one flow takes the same bucket, and flows spread over
 * the live buckets in proportion to their weights.
 */
import {
  Action,
  Bucket,
  GroupDesc,
  GroupFeatures,
  GroupMod,
  GroupStats,
  OFPAT,
  OFPET,
  OFPG,
  OFPGC,
  OFPGFC,
  OFPGMFC,
  OFPGT,
  OFPP,
  OfpError,
} from '@nicvisor/openflow';
import { Clock, splitDuration } from './clock.js';

export interface GroupTableOptions {
  /** Groups at most (OFPGMFC_OUT_OF_GROUPS beyond). Default 65536. */
  maxGroups?: number;
  /** Buckets per group at most (OFPGMFC_OUT_OF_BUCKETS beyond). Default 64. */
  maxBuckets?: number;
}

/** What the group table needs of its switch. */
export interface GroupEnv {
  /** Is the port live (exists, not administratively down, link up)? */
  portLive(port: number): boolean;
  /** Validates a bucket's action list as a switch must (throws OfpError); groups named are checked here. */
  validateActions(actions: readonly Action[]): void;
}

export class BucketState {
  packetCount = 0;
  byteCount = 0;
  /** The GROUP action of the bucket, if any (chaining). */
  readonly chained: readonly number[];

  constructor(readonly bucket: Bucket) {
    this.chained = bucket.actions.filter((a) => a.type === OFPAT.GROUP).map((a) => (a as { groupId: number }).groupId >>> 0);
  }
}

export class Group {
  packetCount = 0;
  byteCount = 0;

  constructor(
    readonly groupId: number,
    readonly groupType: number,
    readonly buckets: readonly BucketState[],
    readonly createdAt: number,
  ) {}

  /** Groups this one forwards to. */
  chained(): Set<number> {
    const out = new Set<number>();
    for (const b of this.buckets) for (const g of b.chained) out.add(g);
    return out;
  }
}

function fail(code: number, detail: string): OfpError {
  return new OfpError(OFPET.GROUP_MOD_FAILED, code, detail);
}

const TYPE_NAMES: Record<number, string> = { [OFPGT.ALL]: 'all', [OFPGT.SELECT]: 'select', [OFPGT.INDIRECT]: 'indirect', [OFPGT.FF]: 'fast-failover' };

/** How deep group chains may go at packet time (a loop is refused at group-mod time; this is a backstop). */
export const MAX_CHAIN_DEPTH = 16;

/** 32-bit mix (murmur3's finalizer) of a flow key: well spread, the same for every packet of a flow. */
export function hashKey(key: Uint32Array): number {
  let h = 0x9747b28c;
  for (let i = 0; i < key.length; i++) {
    let k = key[i];
    if (k === 0) continue;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k ^ i;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const SUPPORTED_ACTIONS =
  (1 << OFPAT.OUTPUT) |
  (1 << OFPAT.COPY_TTL_OUT) |
  (1 << OFPAT.COPY_TTL_IN) |
  (1 << OFPAT.SET_MPLS_TTL) |
  (1 << OFPAT.DEC_MPLS_TTL) |
  (1 << OFPAT.PUSH_VLAN) |
  (1 << OFPAT.POP_VLAN) |
  (1 << OFPAT.PUSH_MPLS) |
  (1 << OFPAT.POP_MPLS) |
  (1 << OFPAT.SET_QUEUE) |
  (1 << OFPAT.GROUP) |
  (1 << OFPAT.SET_NW_TTL) |
  (1 << OFPAT.DEC_NW_TTL) |
  (1 << OFPAT.SET_FIELD) |
  (1 << OFPAT.PUSH_PBB) |
  (1 << OFPAT.POP_PBB);

export class GroupTable {
  readonly maxGroups: number;
  readonly maxBuckets: number;
  private readonly groups = new Map<number, Group>();

  constructor(
    private readonly clock: Clock,
    private readonly env: GroupEnv,
    opts: GroupTableOptions = {},
  ) {
    this.maxGroups = opts.maxGroups ?? 65536;
    this.maxBuckets = opts.maxBuckets ?? 64;
  }

  get size(): number {
    return this.groups.size;
  }

  get(groupId: number): Group | undefined {
    return this.groups.get(groupId >>> 0);
  }

  has(groupId: number): boolean {
    return this.groups.has(groupId >>> 0);
  }

  /** Every group, in ascending id order. */
  all(): Group[] {
    return [...this.groups.values()].sort((a, b) => a.groupId - b.groupId);
  }

  /**
   * Applies a group-mod; throws OfpError without changing anything. Returns
   * the ids of the groups it deleted (whose flows the caller removes).
   */
  apply(gm: Pick<GroupMod, 'command' | 'groupType' | 'groupId' | 'buckets'>, now: number = this.clock.now()): { deleted: number[] } {
    const id = gm.groupId >>> 0;
    switch (gm.command) {
      case OFPGC.ADD:
      case OFPGC.MODIFY: {
        if (id > OFPG.MAX) throw fail(OFPGMFC.INVALID_GROUP, `group id 0x${id.toString(16)} is reserved`);
        const existing = this.groups.get(id);
        if (gm.command === OFPGC.ADD && existing !== undefined) throw fail(OFPGMFC.GROUP_EXISTS, `group ${id} exists`);
        if (gm.command === OFPGC.MODIFY && existing === undefined) throw fail(OFPGMFC.UNKNOWN_GROUP, `group ${id} does not exist`);
        if (existing === undefined && this.groups.size >= this.maxGroups) throw fail(OFPGMFC.OUT_OF_GROUPS, `${this.maxGroups} groups in use`);
        const group = this.build(id, gm.groupType, gm.buckets, existing?.createdAt ?? now);
        if (existing !== undefined) {
          // Counters of the group survive a modify; its buckets are new.
          group.packetCount = existing.packetCount;
          group.byteCount = existing.byteCount;
        }
        this.groups.set(id, group);
        return { deleted: [] };
      }
      case OFPGC.DELETE: {
        if (id === OFPG.ALL) {
          const deleted = [...this.groups.keys()];
          this.groups.clear();
          return { deleted };
        }
        if (id > OFPG.MAX) throw fail(OFPGMFC.INVALID_GROUP, `group id 0x${id.toString(16)} is reserved`);
        if (!this.groups.has(id)) return { deleted: [] }; // not an error (§6.5)
        for (const g of this.groups.values()) {
          if (g.groupId !== id && g.chained().has(id)) {
            throw fail(OFPGMFC.CHAINED_GROUP, `group ${g.groupId} forwards to group ${id}`);
          }
        }
        this.groups.delete(id);
        return { deleted: [id] };
      }
      default:
        throw fail(OFPGMFC.BAD_COMMAND, `group-mod command ${gm.command}`);
    }
  }

  /** Validates a group's definition and builds it. */
  private build(id: number, type: number, buckets: readonly Bucket[], createdAt: number): Group {
    if (TYPE_NAMES[type] === undefined) throw fail(OFPGMFC.BAD_TYPE, `group type ${type}`);
    if (buckets.length > this.maxBuckets) throw fail(OFPGMFC.OUT_OF_BUCKETS, `${buckets.length} buckets, at most ${this.maxBuckets}`);
    if (type === OFPGT.INDIRECT && buckets.length !== 1) {
      throw fail(OFPGMFC.INVALID_GROUP, `an indirect group has exactly one bucket, not ${buckets.length}`);
    }
    for (const b of buckets) {
      if (type !== OFPGT.SELECT && b.weight !== 0) throw fail(OFPGMFC.WEIGHT_UNSUPPORTED, `weight ${b.weight} in a ${TYPE_NAMES[type]} group`);
      if (type === OFPGT.FF) {
        const port = b.watchPort >>> 0;
        const group = b.watchGroup >>> 0;
        if (port === OFPP.ANY && group === OFPG.ANY) throw fail(OFPGMFC.BAD_WATCH, 'a fast-failover bucket watches neither a port nor a group');
        if (port !== OFPP.ANY && port > OFPP.MAX && port !== OFPP.LOCAL) throw fail(OFPGMFC.BAD_WATCH, `cannot watch port 0x${port.toString(16)}`);
        if (group !== OFPG.ANY && (group > OFPG.MAX || group === id)) throw fail(OFPGMFC.BAD_WATCH, `cannot watch group 0x${group.toString(16)}`);
      }
      const chained = b.actions.filter((a) => a.type === OFPAT.GROUP).map((a) => (a as { groupId: number }).groupId >>> 0);
      if (chained.includes(id)) throw fail(OFPGMFC.LOOP, `group ${id} forwards to itself`);
      this.env.validateActions(b.actions);
    }
    const group = new Group(
      id,
      type,
      buckets.map((b) => new BucketState({ ...b, actions: [...b.actions] })),
      createdAt,
    );
    // A loop through other groups: can any group this one forwards to reach it?
    if (this.reaches(group.chained(), id)) throw fail(OFPGMFC.LOOP, `group ${id} would forward to itself through a chain`);
    return group;
  }

  private reaches(from: Set<number>, target: number): boolean {
    const seen = new Set<number>();
    const stack = [...from];
    while (stack.length > 0) {
      const g = stack.pop()!;
      if (g === target) return true;
      if (seen.has(g)) continue;
      seen.add(g);
      const grp = this.groups.get(g);
      if (grp !== undefined) for (const next of grp.chained()) stack.push(next);
    }
    return false;
  }

  /** Is the bucket live: its watched port and group (when set) are live? */
  bucketLive(b: BucketState, depth = 0): boolean {
    const port = b.bucket.watchPort >>> 0;
    const group = b.bucket.watchGroup >>> 0;
    if (port !== OFPP.ANY && !this.env.portLive(port)) return false;
    if (group !== OFPG.ANY && !this.groupLive(group, depth + 1)) return false;
    return true;
  }

  /** A group is live when it exists and, for fast-failover, one of its buckets is. */
  groupLive(groupId: number, depth = 0): boolean {
    const g = this.groups.get(groupId >>> 0);
    if (g === undefined || depth > MAX_CHAIN_DEPTH) return false;
    if (g.groupType === OFPGT.FF) return g.buckets.some((b) => this.bucketLive(b, depth));
    return g.buckets.length > 0;
  }

  /**
   * The buckets a packet with this key goes through, counting it against
   * the group and those buckets. Empty when there is none (the packet is
   * dropped, §5.6).
   */
  select(g: Group, key: Uint32Array, bytes: number): BucketState[] {
    g.packetCount++;
    g.byteCount += bytes;
    let out: BucketState[];
    switch (g.groupType) {
      case OFPGT.ALL:
        out = g.buckets as BucketState[];
        break;
      case OFPGT.INDIRECT:
        out = g.buckets.length > 0 ? [g.buckets[0]] : [];
        break;
      case OFPGT.FF: {
        const b = g.buckets.find((x) => this.bucketLive(x));
        out = b === undefined ? [] : [b];
        break;
      }
      default: {
        const b = this.pickWeighted(g, key);
        out = b === undefined ? [] : [b];
      }
    }
    for (const b of out) {
      b.packetCount++;
      b.byteCount += bytes;
    }
    return out;
  }

  /** SELECT: a bucket by weight among the live ones, from the key's hash. */
  private pickWeighted(g: Group, key: Uint32Array): BucketState | undefined {
    let total = 0;
    for (const b of g.buckets) if (b.bucket.weight > 0 && this.bucketLive(b)) total += b.bucket.weight;
    if (total === 0) return undefined;
    let point = hashKey(key) % total;
    for (const b of g.buckets) {
      if (b.bucket.weight === 0 || !this.bucketLive(b)) continue;
      if (point < b.bucket.weight) return b;
      point -= b.bucket.weight;
    }
    return undefined;
  }

  /** Group stats for one group or OFPG_ALL; `refCount` counts flow entries and groups forwarding to a group. */
  stats(groupId: number, refCount: (id: number) => number, now: number = this.clock.now()): GroupStats[] {
    return this.pick(groupId).map((g) => {
      const d = splitDuration(now - g.createdAt);
      return {
        groupId: g.groupId,
        refCount: refCount(g.groupId),
        packetCount: BigInt(g.packetCount),
        byteCount: BigInt(g.byteCount),
        durationSec: d.sec,
        durationNsec: d.nsec,
        bucketStats: g.buckets.map((b) => ({ packetCount: BigInt(b.packetCount), byteCount: BigInt(b.byteCount) })),
      };
    });
  }

  /** Groups forwarding to this one. */
  chainedRefs(groupId: number): number {
    let n = 0;
    for (const g of this.groups.values()) if (g.chained().has(groupId)) n++;
    return n;
  }

  desc(): GroupDesc[] {
    return this.all().map((g) => ({
      groupType: g.groupType,
      groupId: g.groupId,
      buckets: g.buckets.map((b) => ({ ...b.bucket, actions: [...b.bucket.actions] })),
    }));
  }

  features(): GroupFeatures {
    const max = this.maxGroups;
    return {
      types: (1 << OFPGT.ALL) | (1 << OFPGT.SELECT) | (1 << OFPGT.INDIRECT) | (1 << OFPGT.FF),
      capabilities: OFPGFC.SELECT_WEIGHT | OFPGFC.SELECT_LIVENESS | OFPGFC.CHAINING | OFPGFC.CHAINING_CHECKS,
      maxGroups: [max, max, max, max],
      actions: [SUPPORTED_ACTIONS, SUPPORTED_ACTIONS, SUPPORTED_ACTIONS, SUPPORTED_ACTIONS],
    };
  }

  private pick(groupId: number): Group[] {
    const id = groupId >>> 0;
    if (id === OFPG.ALL) return this.all();
    const g = this.groups.get(id);
    return g === undefined ? [] : [g];
  }

  clear(): void {
    this.groups.clear();
  }
}
