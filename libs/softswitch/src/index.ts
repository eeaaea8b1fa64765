/**
 * @nicvisor/softswitch: the emulated smart-NIC. One SwitchInstance is an
 * OpenFlow 1.3 switch (pipeline + agent); the NIC hosts many of them.
 */
export * from './key.js';
export * from './packet.js';
export * from './checksum.js';
export * from './header-actions.js';
export * from './classifier.js';
export * from './flow-table.js';
export * from './clock.js';
export * from './groups.js';
export * from './meters.js';
export * from './pipeline.js';
export * from './agent.js';
export * from './instance.js';
export * from './channel.js';
export * from './pcap.js';
export * from './nic.js';
