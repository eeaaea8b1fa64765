/**
 * @nicvisor/tenancy: per-tenant ownership of a smart-NIC instance, as data
 * (model.ts), the vNF's numbering of tables (view.ts), one verification
 * function per message kind a vNF sends (policy.ts), and where messages
 * from the NIC go (routing.ts). Pure: no I/O, no NestJS, never throws on a
 * message.
 */
export * from './model.js';
export * from './view.js';
export * from './policy.js';
export * from './routing.js';
