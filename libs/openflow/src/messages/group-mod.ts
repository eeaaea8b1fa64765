/**
 * OFPT_GROUP_MOD (§7.3.4.3) and ofp_bucket, which the group-desc multipart
 * reply reuses.
 */
import { actionsLength, decodeActions, encodeActions, Action } from '../actions.js';
import { OFPT } from '../constants.js';
import { OFPET, OFPGMFC, OfpError } from '../errors.js';
import { MessageCodec } from '../codec.js';
import { Reader, Writer } from '../wire.js';

/** ofp_bucket; its `len` is computed from the actions. */
export interface Bucket {
  /** Relative weight, for select groups. */
  weight: number;
  /** Port / group whose liveness decides the bucket's, for fast-failover groups. */
  watchPort: number;
  watchGroup: number;
  actions: Action[];
}

export interface GroupMod {
  type: (typeof OFPT)['GROUP_MOD'];
  xid: number;
  command: number;
  /** ofp_group_mod.type (OFPGT), renamed to leave `type` to the message. */
  groupType: number;
  groupId: number;
  buckets: Bucket[];
}

const BUCKET_HEADER = 16;

/** Decodes one bucket; `r` is positioned at its `len` field. */
export function decodeBucket(r: Reader): Bucket {
  const start = r.pos;
  r.need(BUCKET_HEADER, OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_BUCKET, 'bucket');
  const len = r.u16();
  if (len < BUCKET_HEADER) {
    throw new OfpError(OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_BUCKET, `bucket length ${len} < ${BUCKET_HEADER}`, start);
  }
  const b = r.sub(len - 2, OFPET.GROUP_MOD_FAILED, OFPGMFC.BAD_BUCKET, 'bucket');
  const weight = b.u16();
  const watchPort = b.u32();
  const watchGroup = b.u32();
  b.skip(4);
  return { weight, watchPort, watchGroup, actions: decodeActions(b) };
}

export function bucketLength(b: Bucket): number {
  return BUCKET_HEADER + actionsLength(b.actions);
}

export function encodeBucket(b: Bucket, w: Writer): void {
  w.u16(bucketLength(b));
  w.u16(b.weight);
  w.u32(b.watchPort);
  w.u32(b.watchGroup);
  w.zeros(4);
  encodeActions(b.actions, w);
}

/** A list of buckets filling exactly `r`'s range. */
export function decodeBuckets(r: Reader): Bucket[] {
  const out: Bucket[] = [];
  while (r.pos < r.end) out.push(decodeBucket(r));
  return out;
}

export function bucketsLength(buckets: readonly Bucket[]): number {
  let len = 0;
  for (let i = 0; i < buckets.length; i++) len += bucketLength(buckets[i]);
  return len;
}

export function encodeBuckets(buckets: readonly Bucket[], w: Writer): void {
  for (let i = 0; i < buckets.length; i++) encodeBucket(buckets[i], w);
}

export const groupModCodec: MessageCodec<GroupMod> = {
  decode(r, xid) {
    r.need(8);
    const command = r.u16();
    const groupType = r.u8();
    r.skip(1);
    const groupId = r.u32();
    return { type: OFPT.GROUP_MOD, xid, command, groupType, groupId, buckets: decodeBuckets(r) };
  },
  bodyLength: (m) => 8 + bucketsLength(m.buckets),
  encode(m, w) {
    w.u16(m.command);
    w.u8(m.groupType);
    w.zeros(1);
    w.u32(m.groupId);
    encodeBuckets(m.buckets, w);
  },
};
