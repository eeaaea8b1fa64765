/**
 * Child process for the restart spec: opens the store at argv[2], writes and
 * flushes, queues one more write, then exits without close() — as a
 * controller killed between two flushes would.
 */
import { Store } from '../store.js';

const store = Store.open(process.argv[2]);
store.instances.create({
  vnf: 'child',
  tenant: 'acme',
  nic: 'embedded',
  datapathId: '00000000000000c1',
  ports: [40],
  tables: { operator: [0], tenant: [1], virtual: true },
  quotas: {},
  channel: { mode: 'listen', endpointPort: 16700 },
  request: { vnf: 'child' },
});
store.shadow.upsertGroup({ vnf: 'child', groupId: 1, owner: 'acme', groupMod: Buffer.from('flushed') });
store.audit.append({ actor: 'acme', vnf: 'child', action: 'group-mod.add', result: 'ok' });
store.flush();
store.shadow.upsertGroup({ vnf: 'child', groupId: 2, owner: 'acme', groupMod: Buffer.from('queued only') });
process.exit(0);
