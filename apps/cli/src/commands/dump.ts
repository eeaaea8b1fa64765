/**
 * dump-flows, dump-tables, dump-groups, dump-meters, dump-ports,
 * dump-ports-desc: what the controller's REST API returns, printed as
 * `ovs-ofctl -O OpenFlow13 dump-*` prints it.
 */
import { Command } from 'commander';
import { OFPP, type FlowStats } from '@nicvisor/openflow';
import {
  flowMatchesFilter,
  flowStatsFromJson,
  formatFlowStats,
  formatGroupDesc,
  formatMeterConfig,
  formatPortDesc,
  formatPortStats,
  formatTableStats,
  FlowSyntaxError,
  groupFromJson,
  meterFromJson,
  parseFlowFilter,
  type PortDescLike,
  type PortNameMap,
  type PortStatsLike,
  toJson,
  type AnyMessage,
  type TableStatsLike,
} from '@nicvisor/openflow/text/index.js';
import { Client, enc, type Instance } from './client.js';
import { CliError } from './messages.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** A FlowSyntaxError as a CLI error: the message names the token; exit 2. */
export function syntaxError(e: unknown, what: string, example: string): never {
  if (e instanceof FlowSyntaxError) throw new CliError(`bad ${what}: ${e.message}`, `${what} syntax is ovs-ofctl's, e.g. ${example}`);
  throw e;
}

export interface OwnedFlow {
  owner: string;
  flow: FlowStats;
}

export async function fetchFlows(client: Client, inst: Instance, asVnf: boolean): Promise<OwnedFlow[]> {
  const rows = await client.get<{ owner: string; flow: unknown }[]>(`/v1/instances/${enc(inst.vnf)}/flows${asVnf ? '?view=vnf' : ''}`);
  return rows.map((r) => ({ owner: r.owner, flow: flowStatsFromJson(r.flow) }));
}

export async function portNames(client: Client, inst: Instance): Promise<Map<number, string>> {
  const ports = await client.get<PortDescLike[]>(`/v1/instances/${enc(inst.vnf)}/ports`);
  return new Map(ports.map((p) => [p.portNo, p.name]));
}

/** OVS's dump-flows order when sorting: by table, then priority (highest first), then text. */
export function sortFlows(rows: OwnedFlow[]): OwnedFlow[] {
  return rows.sort((a, b) => a.flow.tableId - b.flow.tableId || b.flow.priority - a.flow.priority);
}

interface DumpFlowsOpts {
  strict?: boolean;
  stats: boolean;
  names?: boolean;
  owner?: boolean;
  json?: boolean;
  asVnf?: boolean;
}

function dumpFlowsCommand(): Command {
  return new Command('dump-flows')
    .description("print an instance's flows as `ovs-ofctl -O OpenFlow13 dump-flows` does (physical view, operator's tables included)")
    .argument('<vnf|dpid>', 'the vNF name or the datapath id of its instance')
    .argument('[filter]', 'ovs-ofctl flow filter, e.g. "table=1,tcp,tp_dst=80" or "cookie=0x5/-1"')
    .option('--strict', 'the filter must match priority and match exactly')
    .option('--no-stats', 'leave out duration, n_packets, n_bytes (and zero cookies and table=0)')
    .option('--names', 'show ports by name')
    .option('--owner', 'prefix each flow with its owner (operator, tenant:NAME)')
    .option('--json', 'one JSON object per flow: {owner, text, flow}')
    .option('--as-vnf', 'what the vNF sees through its delegated channel (its tables, its numbering)')
    .action(async (ref: string, filterText: string | undefined, opts: DumpFlowsOpts, cmd: Command) => {
      const client = Client.of(cmd);
      const inst = await client.resolve(ref);
      const names = opts.names ? await portNames(client, inst) : undefined;
      let filter;
      try {
        filter = filterText === undefined ? undefined : parseFlowFilter(filterText, { strict: opts.strict, portNames: names && new Map([...names].map(([n, s]) => [s, n])) });
      } catch (e) {
        syntaxError(e, 'filter', '"table=1,tcp,tp_dst=80"');
      }
      if (opts.strict && filter === undefined) throw new CliError('--strict needs a filter', 'e.g. nicvisor dump-flows fw1 --strict "priority=100,ip,nw_dst=10.0.0.1"');
      let rows = await fetchFlows(client, inst, opts.asVnf ?? false);
      if (filter !== undefined) rows = rows.filter((r) => flowMatchesFilter(r.flow, filter));
      rows = sortFlows(rows);
      for (const r of rows) {
        const text = formatFlowStats(r.flow, { stats: opts.stats, names: names as PortNameMap | undefined });
        if (opts.json) out(JSON.stringify({ owner: r.owner, text, flow: toJson({ value: r.flow } as unknown as AnyMessage).value ?? null }));
        else out(opts.owner ? ` owner=${r.owner}, ${text}` : ` ${text}`);
      }
    });
}

interface ViewOpts {
  json?: boolean;
  asVnf?: boolean;
  names?: boolean;
}

function simple(name: string, description: string, run: (client: Client, inst: Instance, opts: ViewOpts) => Promise<void>, withView = true): Command {
  const cmd = new Command(name).description(description).argument('<vnf|dpid>', 'the vNF name or the datapath id of its instance').option('--json', 'print the API JSON, one object per line');
  if (withView) cmd.option('--as-vnf', 'what the vNF sees (its tables and ids, its numbering)');
  cmd.option('--names', 'show ports by name');
  return cmd.action(async (ref: string, opts: ViewOpts, c: Command) => {
    const client = Client.of(c);
    await run(client, await client.resolve(ref), opts);
  });
}

const view = (opts: ViewOpts) => (opts.asVnf ? '?view=vnf' : '');

/** A port as dump-ports takes it: a number, LOCAL / CONTROLLER / …, or (with names) a port name. */
function portArg(text: string, names: ReadonlyMap<number, string>): number {
  const reserved: Record<string, number> = { LOCAL: OFPP.LOCAL, CONTROLLER: OFPP.CONTROLLER, IN_PORT: OFPP.IN_PORT, ANY: OFPP.ANY, NONE: OFPP.ANY };
  if (/^\d+$/.test(text)) return Number(text);
  const r = reserved[text.toUpperCase()];
  if (r !== undefined) return r;
  for (const [n, name] of names) if (name === text) return n;
  throw new CliError(`"${text}" is not a port number or the name of a port of the instance`, '`nicvisor dump-ports-desc VNF` lists its ports');
}

/** dump-ports VNF [PORT]: the counters the controller reads from the NIC (PORT_STATS), as ovs-ofctl prints them. */
function dumpPortsCommand(): Command {
  return new Command('dump-ports')
    .description('port statistics (read from the NIC) as `ovs-ofctl dump-ports` prints them')
    .argument('<vnf|dpid>', 'the vNF name or the datapath id of its instance')
    .argument('[port]', 'only this port (number, LOCAL, or a port name)')
    .option('--json', 'print the API JSON (description and counters), one object per line')
    .action(async (ref: string, port: string | undefined, opts: { json?: boolean }, c: Command) => {
      const client = Client.of(c);
      const inst = await client.resolve(ref);
      let rows = await client.get<(PortStatsLike & { name?: string })[]>(`/v1/instances/${enc(inst.vnf)}/ports`);
      if (port !== undefined) {
        const want = portArg(port, new Map(rows.map((r) => [r.portNo, r.name ?? ''])));
        rows = rows.filter((r) => want === OFPP.ANY || r.portNo === want);
        if (rows.length === 0) throw new CliError(`instance ${inst.vnf} has no port ${port}`, '`nicvisor dump-ports-desc VNF` lists its ports');
      }
      if (opts.json) return rows.forEach((r) => out(JSON.stringify(r)));
      rows.sort((a, b) => a.portNo - b.portNo);
      out(`OFPST_PORT reply (OF1.3) (xid=0x2): ${rows.length} ports`);
      rows.forEach((p) => formatPortStats(p).forEach(out));
    });
}

export function dumpCommands(): Command[] {
  return [
    dumpFlowsCommand(),
    simple('dump-tables', 'table statistics as `ovs-ofctl dump-tables` prints them', async (client, inst, opts) => {
      const rows = await client.get<(TableStatsLike & { owner: string })[]>(`/v1/instances/${enc(inst.vnf)}/tables${view(opts)}`);
      if (opts.json) return rows.forEach((r) => out(JSON.stringify(r)));
      out('OFPST_TABLE reply (OF1.3) (xid=0x2):');
      formatTableStats(rows.sort((a, b) => a.tableId - b.tableId)).forEach(out);
    }),
    simple('dump-groups', 'group descriptions as `ovs-ofctl dump-groups` prints them', async (client, inst, opts) => {
      const rows = await client.get<{ owner: string }[]>(`/v1/instances/${enc(inst.vnf)}/groups${view(opts)}`);
      if (opts.json) return rows.forEach((r) => out(JSON.stringify(r)));
      const names = opts.names ? await portNames(client, inst) : undefined;
      out('OFPST_GROUP_DESC reply (OF1.3) (xid=0x2):');
      rows
        .map(groupFromJson)
        .sort((a, b) => a.groupId - b.groupId)
        .forEach((g) => out(` ${formatGroupDesc(g, names)}`));
    }),
    simple('dump-meters', 'meter configurations as `ovs-ofctl dump-meters` prints them', async (client, inst, opts) => {
      const rows = await client.get<{ owner: string }[]>(`/v1/instances/${enc(inst.vnf)}/meters${view(opts)}`);
      if (opts.json) return rows.forEach((r) => out(JSON.stringify(r)));
      out('OFPST_METER_CONFIG reply (OF1.3) (xid=0x2):');
      rows
        .map(meterFromJson)
        .sort((a, b) => a.meterId - b.meterId)
        .forEach((m) => formatMeterConfig(m).forEach(out));
    }),
    dumpPortsCommand(),
    simple(
      'dump-ports-desc',
      'port descriptions as `ovs-ofctl dump-ports-desc` prints them',
      async (client, inst, opts) => {
        const rows = await client.get<PortDescLike[]>(`/v1/instances/${enc(inst.vnf)}/ports`);
        if (opts.json) return rows.forEach((r) => out(JSON.stringify(r)));
        out('OFPST_PORT_DESC reply (OF1.3) (xid=0x2):');
        rows.sort((a, b) => a.portNo - b.portNo).forEach((p) => formatPortDesc(p).forEach(out));
      },
      false,
    ),
  ];
}
