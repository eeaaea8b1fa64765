/** Message patterns of the orchestrator API over the NestJS TCP transport (the same operations as the REST routes). */
export const PATTERNS = {
  INSTANCE_CREATE: 'instance.create',
  INSTANCE_GET: 'instance.get',
  INSTANCE_LIST: 'instance.list',
  INSTANCE_UPDATE: 'instance.update',
  INSTANCE_DELETE: 'instance.delete',
  TENANT_LIST: 'tenant.list',
  AUDIT_QUERY: 'audit.query',
} as const;

export type PatternName = (typeof PATTERNS)[keyof typeof PATTERNS];

/** Audit action names of the REST-only operations. */
export const ACTIONS = {
  INSTANCE_FLOWS: 'instance.flows',
  INSTANCE_TABLES: 'instance.tables',
  INSTANCE_GROUPS: 'instance.groups',
  INSTANCE_METERS: 'instance.meters',
  INSTANCE_PORTS: 'instance.ports',
  INSTANCE_PORT_INJECT: 'instance.port.inject',
  INSTANCE_EVENTS: 'instance.events',
  OPERATOR_FLOW_ADD: 'operator.flow.add',
  OPERATOR_FLOW_DELETE: 'operator.flow.delete',
  OPERATOR_FLOW_MODIFY: 'operator.flow.modify',
  OPERATOR_GROUP_ADD: 'operator.group.add',
  OPERATOR_GROUP_DELETE: 'operator.group.delete',
  OPERATOR_METER_ADD: 'operator.meter.add',
  OPERATOR_METER_DELETE: 'operator.meter.delete',
} as const;

/** REST prefix of the orchestrator API. */
export const API_PREFIX = 'v1';
