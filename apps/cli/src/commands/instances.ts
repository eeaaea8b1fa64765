/** instances, instance show|create|delete, tenants. */
import { Command, InvalidArgumentError } from 'commander';
import { Client, enc, type Instance } from './client.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

function ranges(ns: readonly number[]): string {
  const s = [...ns].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length; ) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    parts.push(j === i ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',') || '-';
}

function table(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  for (const r of rows) out(r.map((x, c) => (c === r.length - 1 ? x : x.padEnd(widths[c]))).join('  '));
}

export function describe(i: Instance): string[] {
  return [
    `vnf:         ${i.vnf}`,
    `tenant:      ${i.tenant}`,
    `nic:         ${i.nic}`,
    `datapath id: ${i.datapathId}`,
    `ports:       ${i.ports.join(',')}`,
    `tables:      operator ${ranges(i.tables.operator)}; tenant ${ranges(i.tables.tenant)}${i.tables.virtual ? ` (the vNF sees them as 0-${i.tables.tenant.length - 1})` : ' (physical ids)'}`,
    `quotas:      ${Object.entries(i.quotas)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `channel:     ${i.channel.mode} ${i.channel.endpoint}${i.connected === undefined ? '' : i.connected ? ' (connected)' : ' (not connected)'}`,
    ...(i.createdAt ? [`created:     ${i.createdAt}`] : []),
  ];
}

function portList(v: string): number[] {
  const ports: number[] = [];
  for (const part of v.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) throw new InvalidArgumentError(`"${part}" is not a port number or range (e.g. 1,2 or 1-4)`);
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    for (let p = a; p <= b; p++) ports.push(p);
  }
  return ports;
}

function tableList(v: string): number[] {
  return portList(v);
}

function intOpt(v: string): number {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`"${v}" is not a non-negative integer`);
  return Number(v);
}

interface CreateOpts {
  tenant: string;
  ports: number[];
  nic?: string;
  operatorTables?: number[];
  tenantTables?: number[];
  physicalIds?: boolean;
  tableCount?: number;
  maxFlows?: number;
  maxGroups?: number;
  maxMeters?: number;
  packetIns?: number;
  connect?: string;
  json?: boolean;
}

export function instanceCommands(): Command[] {
  const instances = new Command('instances')
    .description('list the instances')
    .option('--json', 'print the API JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const rows = await Client.of(cmd).get<Instance[]>('/v1/instances');
      if (opts.json) return out(JSON.stringify(rows));
      if (rows.length === 0) return out('no instances');
      table([
        ['VNF', 'TENANT', 'NIC', 'DATAPATH', 'PORTS', 'CHANNEL', 'CONNECTED'],
        ...rows.map((i) => [i.vnf, i.tenant, i.nic, i.datapathId, i.ports.join(','), `${i.channel.mode} ${i.channel.endpoint}`, i.connected === undefined ? '-' : i.connected ? 'yes' : 'no']),
      ]);
    });

  const instance = new Command('instance').description('show, create or delete one instance');
  instance
    .command('show')
    .description("a vNF's instance")
    .argument('<vnf|dpid>')
    .option('--json', 'print the API JSON')
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) => {
      const i = await Client.of(cmd).resolve(ref);
      if (opts.json) out(JSON.stringify(i));
      else describe(i).forEach(out);
    });
  instance
    .command('create')
    .description("create a vNF's instance (the same request again is not an error)")
    .argument('<vnf>')
    .requiredOption('--tenant <tenant>', 'the tenant that owns the vNF')
    .requiredOption('--ports <list>', 'NIC ports to attach, e.g. 1,2 or 1-4', portList)
    .option('--nic <nic>', 'the NIC (default: embedded)')
    .option('--operator-tables <list>', 'physical tables the operator owns (default 0)', tableList)
    .option('--tenant-tables <list>', "physical tables the vNF's tenant owns (default 1..T-1)", tableList)
    .option('--table-count <n>', 'T, the number of physical tables', intOpt)
    .option('--physical-ids', 'the vNF sees physical table ids (no table virtualization)')
    .option('--max-flows <n>', 'flow quota', intOpt)
    .option('--max-groups <n>', 'group quota', intOpt)
    .option('--max-meters <n>', 'meter quota', intOpt)
    .option('--packet-ins <n>', 'packet-ins per second', intOpt)
    .option('--connect <target>', "connect mode: dial the vNF's controller at tcp:HOST:PORT (default: listen)")
    .option('--json', 'print the API JSON')
    .action(async (vnf: string, o: CreateOpts, cmd: Command) => {
      const body: Record<string, unknown> = { vnf, tenant: o.tenant, ports: o.ports };
      if (o.nic) body.nic = o.nic;
      const tables: Record<string, unknown> = {};
      if (o.operatorTables) tables.operator = o.operatorTables;
      if (o.tenantTables) tables.tenant = o.tenantTables;
      if (o.tableCount !== undefined) tables.count = o.tableCount;
      if (o.physicalIds) tables.virtual = false;
      if (Object.keys(tables).length > 0) body.tables = tables;
      const quotas: Record<string, number> = {};
      if (o.maxFlows !== undefined) quotas.maxFlows = o.maxFlows;
      if (o.maxGroups !== undefined) quotas.maxGroups = o.maxGroups;
      if (o.maxMeters !== undefined) quotas.maxMeters = o.maxMeters;
      if (o.packetIns !== undefined) quotas.packetInsPerSecond = o.packetIns;
      if (Object.keys(quotas).length > 0) body.quotas = quotas;
      if (o.connect) body.channel = { mode: 'connect', target: o.connect };
      const i = await Client.of(cmd).request<Instance>('POST', '/v1/instances', body);
      if (o.json) out(JSON.stringify(i));
      else describe(i).forEach(out);
    });
  instance
    .command('delete')
    .description('delete the instance: its flows, NIC instance, channel and ports are freed')
    .argument('<vnf|dpid>')
    .action(async (ref: string, _o: unknown, cmd: Command) => {
      const client = Client.of(cmd);
      const i = await client.resolve(ref);
      await client.request('DELETE', `/v1/instances/${enc(i.vnf)}`);
      out(`deleted ${i.vnf}`);
    });

  const tenants = new Command('tenants')
    .description('list the tenants and their vNFs')
    .option('--json', 'print the API JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const rows = await Client.of(cmd).get<{ tenant: string; createdAt?: string; vnfs?: string[] }[]>('/v1/tenants');
      if (opts.json) return out(JSON.stringify(rows));
      if (rows.length === 0) return out('no tenants');
      table([['TENANT', 'CREATED', 'VNFS'], ...rows.map((t) => [t.tenant, t.createdAt ?? '-', (t.vnfs ?? []).join(',') || '-'])]);
    });
  return [instances, instance, tenants];
}
