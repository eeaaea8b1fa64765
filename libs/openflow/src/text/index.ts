/** Text and JSON forms of OpenFlow messages: OVS-style flow syntax, one-line summaries, JSON-safe objects. */
export * from './flow.js';
export * from './message.js';
export * from './json.js';
export * from './parse.js';
export * from './dump.js';
