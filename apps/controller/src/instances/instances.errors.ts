/**
 * Domain errors of the orchestrator API. Services throw these; the one
 * exception filter (api-exception.filter.ts) turns them, OfpError, NicError
 * and Nest's own HTTP exceptions into an HTTP status with a JSON body, or
 * into an RPC error with the same status and message.
 */
export type DomainErrorKind = 'BAD_REQUEST' | 'NOT_FOUND' | 'CONFLICT' | 'UNAVAILABLE';

export const DOMAIN_STATUS: Record<DomainErrorKind, number> = {
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
};

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    message: string,
    /** The request field at fault, when there is one ("ports", "tables.tenant"). */
    readonly field?: string,
    /** More of the answer's body (a flow syntax error's `token` and `position`). */
    readonly extra?: Record<string, string | number>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (vnf: string): DomainError => new DomainError('NOT_FOUND', `no instance for vNF "${vnf}"`);
export const conflict = (message: string, field?: string): DomainError => new DomainError('CONFLICT', message, field);
export const badRequest = (message: string, field?: string, extra?: Record<string, string | number>): DomainError => new DomainError('BAD_REQUEST', message, field, extra);
