/**
 * add-flow / del-flows / mod-flows, add-group / del-groups, add-meter /
 * del-meters: the operator's own tables and ids, in ovs-ofctl's syntax,
 * through the controller's operator routes. The text is parsed here too (so
 * a bad token or a table that is not the operator's is named before
 * anything is sent); flows go to the API as text (POST / PATCH / DELETE
 * /v1/instances/VNF/flows with {"flow"} or {"filter"}), which parses it with
 * the same library; groups and meters as the API's JSON.
 */
import { Command } from 'commander';
import { OFPTT, type FlowMod } from '@nicvisor/openflow';
import { parseFlowMod, parseGroupMod, parseMeterMod, toJson, type AnyMessage, type JsonValue } from '@nicvisor/openflow/text/index.js';
import { ApiError, Client, enc, type Instance } from './client.js';
import { syntaxError } from './dump.js';
import { CliError } from './messages.js';

const out = (line: string): void => void process.stdout.write(`${line}\n`);

/** The operator cookie space the API accepts: the low 48 bits. */
const COOKIE_BITS = (1n << 48n) - 1n;

function json(x: unknown): JsonValue {
  return toJson({ value: x } as unknown as AnyMessage).value ?? null;
}

/** Flow flags cannot be given to operator flows: said before anything is sent. */
function noFlags(fm: FlowMod): void {
  if (fm.flags !== 0) throw new CliError('flow flags (send_flow_rem, check_overlap, …) cannot be given to operator flows', 'the controller API takes no flags for operator flows');
}

/** Operator cookies are 48 bits (nicvisor's namespace is in the top 16). */
function cookieFits(fm: FlowMod): void {
  const top = fm.cookie & ~COOKIE_BITS;
  if (top !== 0n && top !== 0x6e76n << 48n) {
    throw new CliError(`cookie 0x${fm.cookie.toString(16)} does not fit in 48 bits`, "the top 16 bits of operator cookies are nicvisor's namespace (0x6e76)");
  }
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
      operatorTable(inst, fm.tableId, `table=${fm.tableId}`);
      noFlags(fm);
      cookieFits(fm);
      await client.request('POST', `/v1/instances/${enc(inst.vnf)}/flows`, { flow: text });
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
        if (fm.tableId !== OFPTT.ALL) operatorTable(inst, fm.tableId, `table=${fm.tableId}`);
        await client.request('DELETE', `/v1/instances/${enc(inst.vnf)}/flows`, { filter: text ?? '', strict });
      },
      true,
    ),
    flowCommand('mod-flows', 'change the actions of operator flows in place (OFPFC_MODIFY; counters are kept)', 'flow', async (client, inst, text, strict) => {
      let fm: FlowMod;
      try {
        fm = parseFlowMod(text!, { command: 'modify', strict });
      } catch (e) {
        syntaxError(e, 'flow', '"table=0,in_port=3,actions=goto_table:2"');
      }
      if (fm.tableId !== OFPTT.ALL) operatorTable(inst, fm.tableId, `table=${fm.tableId}`);
      noFlags(fm);
      cookieFits(fm);
      const r = await client.request<{ modified: number }>('PATCH', `/v1/instances/${enc(inst.vnf)}/flows`, { flow: text, strict });
      out(`modified ${r.modified} flow${r.modified === 1 ? '' : 's'}`);
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
