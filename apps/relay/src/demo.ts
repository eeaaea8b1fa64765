/**
 * `npm start -- --with-relay`: the embedded demo with a configuration relay
 * for compute node `node1` in the same process. nicvisor's relay endpoint
 * is opened (NICVISOR_RELAY_PORT, ephemeral unless set), node1's
 * credentials are issued by the CA, and the relay gives vNF `fw1` the
 * socket `<dataDir>/relay/fw1.sock`; an instance created for fw1 with
 * `"node":"node1"` is then programmed through it.
 */
import { join } from 'node:path';
import type { ControllerApp } from '../../controller/src/app.module.js';
import { CertificateAuthority } from '../../controller/src/pki/ca.js';
import { Relay } from './relay.js';

export const DEMO_NODE = 'node1';
export const DEMO_VNF = 'fw1';

/** The environment with the relay endpoint switched on. */
export function relayDemoEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, NICVISOR_RELAY_PORT: env.NICVISOR_RELAY_PORT ?? '0' };
}

/** Starts the demo relay; resolves with the banner's lines (`authHeader`: the curl's -H argument). */
export async function startDemoRelay(c: ControllerApp, dataDir: string, host: string, authHeader: string): Promise<string[]> {
  const creds = await c.app.get(CertificateAuthority).issue('node', DEMO_NODE);
  const relay = new Relay({
    controller: { host, port: c.relayPort! },
    credentials: creds,
    socketDir: join(dataDir, 'relay'),
    vnfs: [DEMO_VNF],
    log: (line) => process.stderr.write(`nicvisor relay: ${line}\n`),
  });
  await relay.start();
  const socket = relay.socketPath(DEMO_VNF);
  return [
    `nicvisor: relay         node ${DEMO_NODE} (endpoint ssl:${host}:${c.relayPort}): vNF ${DEMO_VNF} on unix:${socket}`,
    `nicvisor: try relay     curl -s -X POST ${c.url}/v1/instances -H ${authHeader} -H 'content-type: application/json' -d '{"vnf":"${DEMO_VNF}","tenant":"acme","ports":[1,2],"node":"${DEMO_NODE}"}'`,
    `nicvisor:               ovs-ofctl -O OpenFlow13 add-flow unix:${socket} 'table=0,priority=10,ip,nw_dst=10.0.0.1,actions=output:2'`,
  ];
}
