/**
 * The port range of the delegated channels' listen endpoints
 * (NICVISOR_CHANNEL_PORTS, default 16653-17652). Ports are tried in order
 * from just after the last one given; a port the OS refuses (EADDRINUSE) is
 * skipped by the caller.
 */
export const ENV_CHANNEL_PORTS = 'NICVISOR_CHANNEL_PORTS';
export const DEFAULT_CHANNEL_PORTS = '16653-17652';

export function parsePortRange(spec: string): { first: number; last: number } {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(spec);
  if (m === null) throw new Error(`${ENV_CHANNEL_PORTS}="${spec}": expected FIRST-LAST, e.g. ${DEFAULT_CHANNEL_PORTS}`);
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (!(first >= 1 && last <= 65535 && first <= last)) throw new Error(`${ENV_CHANNEL_PORTS}="${spec}": not a port range within 1-65535`);
  return { first, last };
}

export class ChannelPorts {
  readonly first: number;
  readonly last: number;
  private next: number;

  constructor(spec: string = DEFAULT_CHANNEL_PORTS) {
    const r = parsePortRange(spec);
    this.first = r.first;
    this.last = r.last;
    this.next = r.first;
  }

  /** Every port of the range once, starting after the last one handed out. */
  *candidates(): Iterable<number> {
    const n = this.last - this.first + 1;
    for (let i = 0; i < n; i++) {
      const p = this.next;
      this.next = p === this.last ? this.first : p + 1;
      yield p;
    }
  }
}
