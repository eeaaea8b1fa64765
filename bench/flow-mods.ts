/** The flow-mods the relay benchmarks send, as a vNF bulk-installing TCP host routes would. */
import { encodeMessage, FlowMod, OFPFC, OFPG, OFPIT, OFPP, OFPT } from '../libs/openflow/src/index.js';

/** n distinct encoded OFPFC_ADDs for view table `table`: ip, nw_dst=10.salt.x.y, tcp, tp_dst → output:port. */
export function flowMods(n: number, table: number, port: number, salt = 0): Buffer {
  return Buffer.concat(Array.from({ length: n }, (_, i) => flowMod(i, table, port, salt)));
}

function flowMod(i: number, table: number, port: number, salt: number): Buffer {
  const fm: FlowMod = {
    type: OFPT.FLOW_MOD,
    xid: i + 1,
    cookie: 0n,
    cookieMask: 0n,
    tableId: table,
    command: OFPFC.ADD,
    idleTimeout: 0,
    hardTimeout: 0,
    priority: 100,
    bufferId: 0xffffffff,
    outPort: OFPP.ANY,
    outGroup: OFPG.ANY,
    flags: 0,
    match: [
      { field: 'eth_type', value: 0x0800 },
      { field: 'ipv4_dst', value: `10.${salt & 255}.${(i >> 8) & 255}.${i & 255}` },
      { field: 'ip_proto', value: 6 },
      { field: 'tcp_dst', value: 1 + ((i >> 16) & 0xfff) },
    ],
    instructions: [{ type: OFPIT.APPLY_ACTIONS, actions: [{ type: 0, port, maxLen: 0 }] }],
  };
  return encodeMessage(fm);
}
