/**
 * What every verification function returns: the message(s) to send to the
 * NIC in physical terms, or the error to answer the vNF with. Verification
 * never throws.
 */
import { errorCodeName, errorTypeName, OFPT, OfpMessage } from '@nicvisor/openflow';
import type { ErrorMessage } from '@nicvisor/openflow';

/** An OpenFlow error (type/code as in errors.ts) with a human reason for the audit log. */
export interface PolicyError {
  type: number;
  code: number;
  reason: string;
}

export interface Denied {
  ok: false;
  error: PolicyError;
}

/**
 * Accepted: `messages` are what goes to the NIC, in order, each with the
 * vNF's xid. Usually one; several when a wildcard was narrowed (OFPTT_ALL,
 * OFPG_ALL, OFPM_ALL); none when the narrowed request selects nothing (the
 * vNF gets no reply but an error would be wrong; a later barrier still
 * answers it).
 */
export interface Accepted<M extends OfpMessage = OfpMessage> {
  ok: true;
  messages: M[];
}

export type Verdict<M extends OfpMessage = OfpMessage> = Accepted<M> | Denied;

export function deny(type: number, code: number, reason: string): Denied {
  return { ok: false, error: { type, code, reason } };
}

export function accept<M extends OfpMessage>(...messages: M[]): Accepted<M> {
  return { ok: true, messages };
}

/** "OFPET_FLOW_MOD_FAILED/OFPFMFC_EPERM: reason", for logs and test failures. */
export function describeError(e: PolicyError): string {
  return `${errorTypeName(e.type)}/${errorCodeName(e.type, e.code)}: ${e.reason}`;
}

/**
 * The ERROR message answering a denied request: the vNF's xid and, as the
 * spec asks, at least the first 64 bytes of the offending message as it
 * arrived (`offending`: its raw bytes).
 */
export function errorReply(error: PolicyError, xid: number, offending: Buffer): ErrorMessage {
  return { type: OFPT.ERROR, xid, errorType: error.type, code: error.code, data: Buffer.from(offending.subarray(0, 64)) };
}
