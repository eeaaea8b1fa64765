/**
 * The controller's Prometheus metrics (prom-client, one registry per app).
 * Nothing here runs per OpenFlow message: the channels increment plain
 * per-tenant counters (ChannelCounters) that are read on scrape; channels
 * up and flows per instance are read from the core and its shadow on
 * scrape; policy denials come from the core's audit callback and store
 * latency from the store's flush callback, both already once per event.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { errorCodeName, errorTypeName, OFPT } from '@nicvisor/openflow';
import type { OpenflowCore } from '../openflow/core.js';
import type { MutationAudit } from '../openflow/delegated-channel.js';
import { OPERATOR_OWNER } from '../openflow/shadow.js';
import { ChannelCounters } from './channel-counters.js';

const TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OFPT).map(([k, v]) => [v, k]));

/** A denial's reason without its numbers ("table 3 is not the tenant's" → "table N is not the tenant's"): one series per rule, not per value. */
export function ruleOf(reason: string | undefined): string {
  return reason === undefined || reason === '' ? 'unspecified' : reason.replace(/0x[0-9a-f]+|\d+/gi, 'N');
}

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly byTenant = new Map<string, ChannelCounters>();
  private core: OpenflowCore | undefined;
  private readonly denials: Counter<'tenant' | 'message' | 'rule'>;
  private readonly storeFlush: Histogram<never>;
  private readonly storeOps: Counter<never>;

  constructor() {
    const registers = [this.registry];
    const up: Gauge<'kind'> = new Gauge({
      name: 'nicvisor_channels_up',
      help: 'OpenFlow channels up: NIC instances connected to nicvisor (nic), vNF connections past HELLO on delegated channels (vnf)',
      labelNames: ['kind'],
      registers,
      collect: () => {
        let vnf = 0;
        for (const ch of this.core?.listChannels() ?? []) for (const c of ch.connections) if (c.version !== 0 && !c.isClosed) vnf++;
        up.set({ kind: 'nic' }, this.core?.registry.list().length ?? 0);
        up.set({ kind: 'vnf' }, vnf);
      },
    });
    const messages: Counter<'direction' | 'type' | 'tenant'> = new Counter({
      name: 'nicvisor_openflow_messages_total',
      help: 'OpenFlow messages on delegated channels, by direction (rx: from the vNF, tx: to it), message type and tenant',
      labelNames: ['direction', 'type', 'tenant'],
      registers,
      collect: () => {
        messages.reset();
        for (const [tenant, c] of this.byTenant) {
          for (let t = 0; t < 256; t++) {
            if (c.rx[t]! > 0) messages.inc({ direction: 'rx', type: TYPE_NAMES[t] ?? String(t), tenant }, c.rx[t]);
            if (c.tx[t]! > 0) messages.inc({ direction: 'tx', type: TYPE_NAMES[t] ?? String(t), tenant }, c.tx[t]);
          }
        }
      },
    });
    const errors: Counter<'type' | 'code' | 'tenant'> = new Counter({
      name: 'nicvisor_openflow_errors_sent_total',
      help: 'OpenFlow ERROR messages sent to vNFs, by error type, code and tenant',
      labelNames: ['type', 'code', 'tenant'],
      registers,
      collect: () => {
        errors.reset();
        for (const [tenant, c] of this.byTenant) {
          for (const [k, n] of c.errors) errors.inc({ type: errorTypeName(k >>> 16), code: errorCodeName(k >>> 16, k & 0xffff), tenant }, n);
        }
      },
    });
    this.denials = new Counter({
      name: 'nicvisor_policy_denials_total',
      help: "State-changing messages from vNFs refused by the ownership policy, by tenant, message type and rule (the reason with its numbers as N)",
      labelNames: ['tenant', 'message', 'rule'],
      registers,
    });
    const flows: Gauge<'vnf' | 'tenant' | 'owner'> = new Gauge({
      name: 'nicvisor_flows',
      help: "Flows installed per instance (from the shadow), by vNF, tenant and owner (operator: nicvisor's steering and operator flows; tenant: the vNF's)",
      labelNames: ['vnf', 'tenant', 'owner'],
      registers,
      collect: () => {
        flows.reset();
        const core = this.core;
        for (const ch of core?.listChannels() ?? []) {
          const labels = { vnf: ch.vnf, tenant: ch.ownership.tenant };
          flows.set({ ...labels, owner: 'operator' }, core!.shadow.flowCount(ch.datapathId, OPERATOR_OWNER));
          flows.set({ ...labels, owner: 'tenant' }, core!.shadow.flowCount(ch.datapathId, ch.owner));
        }
      },
    });
    this.storeFlush = new Histogram({
      name: 'nicvisor_store_flush_seconds',
      help: 'Time to write one batch of queued shadow and audit changes to SQLite (one transaction)',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.storeOps = new Counter({ name: 'nicvisor_store_flushed_operations_total', help: 'Queued store operations written by flushes', registers });
  }

  /** The counters the channels of a tenant increment (one object per tenant, for the app's life). */
  countersFor(tenant: string): ChannelCounters {
    let c = this.byTenant.get(tenant);
    if (c === undefined) this.byTenant.set(tenant, (c = new ChannelCounters()));
    return c;
  }

  /** The OpenFlow core whose channels and shadow are read on scrape. */
  attach(core: OpenflowCore): void {
    this.core = core;
  }

  /** The core's audit callback: denials are counted by rule. */
  onMutationAudit(e: MutationAudit): void {
    if (e.result === 'denied') this.denials.inc({ tenant: e.tenant, message: e.message, rule: ruleOf(e.detail) }, e.count);
  }

  /** The store's flush callback. */
  onStoreFlush(operations: number, seconds: number): void {
    this.storeFlush.observe(seconds);
    this.storeOps.inc(operations);
  }

  /** The text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
