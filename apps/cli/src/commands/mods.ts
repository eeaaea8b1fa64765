/**
 * add-flow / del-flows / mod-flows, add-group / del-groups, add-meter /
 * del-meters: the operator's own tables and ids, in ovs-ofctl's syntax,
 * through the controller's operator routes. The text is parsed here (so a
 * bad token is named before anything is sent) and sent as the API's JSON.
 */
import { Command } from 'commander';
import { OFPTT, type FlowMod } from '@nicvisor/openflow';
import { flowMatchesFilter, parseFlowFilter, parseFlowMod, parseGroupMod, parseMeterMod, toJson, type AnyMessage, type JsonValue } from '@nicvisor/openflow/text/index.js';
import { ApiError, Client, enc, type Instance } from './client.js';
import { fetchFlows, syntaxError } from './dump.js';
import { CliError } from './messages.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** The operator cookie space the API accepts: the low 48 bits. */
const COOKIE_BITS = (1n << 48n) - 1n;

function json(x: unknown): JsonValue {
  return toJson({ value: x } as unknown as AnyMessage).value ?? null;
}

/** A FlowMod as the API's OperatorFlowDto. */
export function operatorFlowBody(fm: FlowMod, tableId: number, opts: { strict?: boolean; withInstructions: boolean }): Record<string, unknown> {
  if (fm.flags !== 0) throw new CliError('flow flags (send_flow_rem, check_overlap, …) cannot be given to operator flows', 'the controller API takes no flags for operator flows');
  const body: Record<string, unknown> = { tableId, priority: fm.priority, match: json(fm.match) };
  if (fm.cookieMask !== 0n && fm.cookieMask !== 0xffffffffffffffffn && fm.cookieMask !== COOKIE_BITS) {
    throw new CliError(`cookie mask 0x${fm.cookieMask.toString(16)} is not supported here`, 'give an exact cookie (cookie=0x5/-1) or none');
  }
  if (fm.cookie !== 0n || fm.cookieMask !== 0n) body.cookie = (fm.cookie & COOKIE_BITS).toString();
  if (fm.idleTimeout) body.idleTimeout = fm.idleTimeout;
  if (fm.hardTimeout) body.hardTimeout = fm.hardTimeout;
  if (opts.withInstructions) body.instructions = json(fm.instructions);
  if (opts.strict !== undefined) body.strict = opts.strict;
  return body;
}

function operatorTable(inst: Instance, tableId: number, tok: string): number {
  if (!inst.tables.operator.includes(tableId)) {
    throw new CliError(`table ${tableId} is not one of the operator's tables (${inst.tables.operator.join(',')}) of ${inst.vnf}`, `the operator writes only its own tables; "${tok}" names another`);
  }
  return tableId;
}

function flowCommand(name: string, description: string, argName: string, run: (client: Client, inst: Instance, text: string | undefined, strict: boolean) => Promise<void>, optionalArg = false): Command {
  return new Command(name)
    .description(description)
    .argument('<vnf|dpid>', 'the vNF name or the datapath id of its instance')
    .argument(optionalArg ? `[${argName}]` : `<${argName}>`, 'in ovs-ofctl syntax')
    .option('--strict', 'exact priority and match')
    .action(async (ref: string, text: string | undefined, opts: { strict?: boolean }, cmd: Command) => {
      const client = Client.of(cmd);
      await run(client, await client.resolve(ref), text, opts.strict ?? false);
    });
}

/** POST to a route the API may not have yet (operator groups and meters): a clear message when it is missing. */
async function postOrMissing(client: Client, path: string, body: unknown, what: string, method = 'POST'): Promise<void> {
  try {
    await client.request(method, path, body);
  } catch (e) {
    if (e instanceof CliError && /: 404 Cannot /.test(e.message)) {
      throw new ApiError(`the controller has no API for operator ${what} (${method} ${path.replace(/\/v1\/instances\/[^/]+/, '/v1/instances/VNF')})`, `operator ${what} are not supported by this controller yet; the vNF can manage its own through its channel`);
    }
    throw e;
  }
}

export function modCommands(): Command[] {
  return [
    flowCommand('add-flow', "add an operator flow (operator's tables only)", 'flow', async (client, inst, text) => {
      let fm: FlowMod;
      try {
        fm = parseFlowMod(text!, { command: 'add' });
      } catch (e) {
        syntaxError(e, 'flow', '"table=0,priority=100,in_port=3,actions=goto_table:1"');
      }
      const table = operatorTable(inst, fm.tableId, `table=${fm.tableId}`);
      await client.request('POST', `/v1/instances/${enc(inst.vnf)}/flows`, operatorFlowBody(fm, table, { withInstructions: true }));
    }),
    flowCommand(
      'del-flows',
      "delete operator flows (all of the operator's when no filter is given)",
      'filter',
      async (client, inst, text, strict) => {
        let fm: FlowMod;
        try {
          fm = parseFlowMod(text ?? '', { command: 'delete', strict });
        } catch (e) {
          syntaxError(e, 'filter', '"table=0,in_port=3"');
        }
        const tables = fm.tableId === OFPTT.ALL ? inst.tables.operator : [operatorTable(inst, fm.tableId, `table=${fm.tableId}`)];
        for (const t of tables) {
          await client.request('DELETE', `/v1/instances/${enc(inst.vnf)}/flows`, operatorFlowBody(fm, t, { strict, withInstructions: false }));
        }
      },
      true,
    ),
    flowCommand('mod-flows', "change the actions of operator flows (delete and re-add: counters restart)", 'flow', async (client, inst, text, strict) => {
      let fm: FlowMod;
      try {
        fm = parseFlowMod(text!, { command: 'modify', strict });
      } catch (e) {
        syntaxError(e, 'flow', '"table=0,in_port=3,actions=goto_table:2"');
      }
      if (fm.tableId !== OFPTT.ALL) operatorTable(inst, fm.tableId, `table=${fm.tableId}`);
      const filter = parseFlowFilter(text!.replace(/(^|[,\s])(apply_)?actions\s*[=:].*$/i, ''), { strict });
      const rows = (await fetchFlows(client, inst, false)).filter((r) => r.owner === 'operator' && flowMatchesFilter(r.flow, filter));
      for (const { flow } of rows) {
        const existing: FlowMod = { ...fm, tableId: flow.tableId, priority: flow.priority, match: flow.match, cookie: flow.cookie & COOKIE_BITS, cookieMask: 0n, idleTimeout: flow.idleTimeout, hardTimeout: flow.hardTimeout };
        const path = `/v1/instances/${enc(inst.vnf)}/flows`;
        await client.request('DELETE', path, operatorFlowBody({ ...existing, cookieMask: 0xffffffffffffffffn }, flow.tableId, { strict: true, withInstructions: false }));
        await client.request('POST', path, operatorFlowBody(existing, flow.tableId, { withInstructions: true }));
      }
      out(`modified ${rows.length} flow${rows.length === 1 ? '' : 's'}`);
    }),
    flowCommand('add-group', 'add an operator group (group_id=1,type=select,bucket=weight:1,actions=output:2,…)', 'group', async (client, inst, text) => {
      let gm;
      try {
        gm = parseGroupMod(text!, { command: 'add' });
      } catch (e) {
        syntaxError(e, 'group', '"group_id=1,type=all,bucket=actions=output:1,bucket=actions=output:2"');
      }
      await postOrMissing(client, `/v1/instances/${enc(inst.vnf)}/groups`, { groupId: gm.groupId, groupType: gm.groupType, buckets: json(gm.buckets) }, 'groups');
    }),
    flowCommand(
      'del-groups',
      'delete operator groups (all when no group_id= is given)',
      'group',
      async (client, inst, text) => {
        let gm;
        try {
          gm = parseGroupMod(text ?? 'group_id=all', { command: 'delete' });
        } catch (e) {
          syntaxError(e, 'group', '"group_id=1"');
        }
        await postOrMissing(client, `/v1/instances/${enc(inst.vnf)}/groups`, { groupId: gm.groupId }, 'groups', 'DELETE');
      },
      true,
    ),
    flowCommand('add-meter', 'add an operator meter (meter=1,kbps,burst,bands=type=drop,rate=1000,burst_size=100)', 'meter', async (client, inst, text) => {
      let mm;
      try {
        mm = parseMeterMod(text!, { command: 'add' });
      } catch (e) {
        syntaxError(e, 'meter', '"meter=1,kbps,bands=type=drop,rate=1000"');
      }
      await postOrMissing(client, `/v1/instances/${enc(inst.vnf)}/meters`, { meterId: mm.meterId, flags: mm.flags, bands: json(mm.bands) }, 'meters');
    }),
    flowCommand(
      'del-meters',
      'delete operator meters (all when no meter= is given)',
      'meter',
      async (client, inst, text) => {
        let mm;
        try {
          mm = parseMeterMod(text ?? 'meter=all', { command: 'delete' });
        } catch (e) {
          syntaxError(e, 'meter', '"meter=1"');
        }
        await postOrMissing(client, `/v1/instances/${enc(inst.vnf)}/meters`, { meterId: mm.meterId }, 'meters', 'DELETE');
      },
      true,
    ),
  ];
}
