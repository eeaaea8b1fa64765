/**
 * Per-tenant OpenFlow message counters of the delegated channels, as plain
 * numbers: the hot path only increments an array slot (messages in and out
 * by type byte) and, for an ERROR sent, one map entry; prom-client reads
 * them when /metrics is scraped (controller-metrics.ts).
 */
import { OFPT } from '@nicvisor/openflow';

export class ChannelCounters {
  /** Messages received from the vNF, by OpenFlow type. */
  readonly rx = new Float64Array(256);
  /** Messages sent to the vNF, by OpenFlow type. */
  readonly tx = new Float64Array(256);
  /** ERRORs sent to the vNF, by `type << 16 | code`. */
  readonly errors = new Map<number, number>();

  /** One message out to the vNF (`raw` is the encoded message). */
  sent(raw: Buffer): void {
    const type = raw[1]!;
    this.tx[type]++;
    if (type === OFPT.ERROR && raw.length >= 12) {
      const k = raw.readUInt32BE(8);
      this.errors.set(k, (this.errors.get(k) ?? 0) + 1);
    }
  }
}
