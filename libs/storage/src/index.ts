/**
 * @nicvisor/storage — the controller's persistence: an embedded SQLite store
 * (tenants, instances, shadow flows / groups / meters, audit log) with a
 * versioned schema and batched hot-path writes. No NestJS here: the
 * controller wraps a Store in a provider.
 */
export * from './types.js';
export * from './json.js';
export * from './migrations.js';
export * from './flow-key.js';
export * from './flow-row-ids.js';
export * from './store.js';
