/**
 * JSON as the store writes it: bigints as decimal strings, and (for request
 * comparison) object keys in sorted order so that key order never matters.
 */

function replacer(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

/** JSON.stringify with bigints as decimal strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, replacer) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

/** JSON with every object's keys sorted: equal for values that differ only in key order. */
export function canonicalJson(value: unknown): string {
  return toJson(sortKeys(value));
}

/**
 * Whether two create-request bodies are the same request (idempotent create):
 * equal as JSON, whatever the key order. Absent and `undefined` members are
 * the same; `null` is a value.
 */
export function sameRequest(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}
