/** Message patterns of the smart-NIC emulator's management API (NestJS TCP transport). */
export const NIC_PATTERNS = {
  INSTANCE_CREATE: 'nic.instance.create',
  INSTANCE_DESTROY: 'nic.instance.destroy',
  INSTANCE_LIST: 'nic.instance.list',
  PORT_LIST: 'nic.port.list',
  PORT_ATTACH: 'nic.port.attach',
  PORT_DETACH: 'nic.port.detach',
  PORT_LINK: 'nic.port.link',
  FRAME_INJECT: 'nic.frame.inject',
  PCAP_REPLAY: 'nic.pcap.replay',
  PCAP_CAPTURE_START: 'nic.pcap.capture.start',
  PCAP_CAPTURE_STOP: 'nic.pcap.capture.stop',
} as const;

/** Injection token of the emulator's options. */
export const SMARTNIC_OPTIONS = Symbol('SMARTNIC_OPTIONS');

export const DEFAULT_RPC_HOST = '127.0.0.1';
export const DEFAULT_RPC_PORT = 8082;
/** Physical ports of the emulated NIC unless NICVISOR_SMARTNIC_PORTS says otherwise. */
export const DEFAULT_NIC_PORTS = 8;
/** How often flow timeouts are run (ms). */
export const TICK_INTERVAL_MS = 1000;

export const ENV = {
  RPC_HOST: 'NICVISOR_SMARTNIC_RPC_HOST',
  RPC_PORT: 'NICVISOR_SMARTNIC_RPC_PORT',
  NIC_PORTS: 'NICVISOR_SMARTNIC_PORTS',
} as const;
