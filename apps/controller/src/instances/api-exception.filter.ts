/**
 * One exception filter for REST and the message patterns: domain errors,
 * OfpError (the NIC refused something), NIC driver errors, validation
 * errors and Nest's HTTP exceptions become a status and a JSON body
 * `{statusCode, error, message, field?, …}`; over RPC the same object is the
 * error the client's observable fails with. Anything unexpected is a 500
 * that is logged, never a crash.
 */
import { ArgumentsHost, BadRequestException, Catch, ExceptionFilter, HttpException, Logger, ValidationError } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { Observable, throwError } from 'rxjs';
import { errorCodeName, errorTypeName, OfpError } from '@nicvisor/openflow';
import { DOMAIN_STATUS, DomainError } from './instances.errors.js';

/** What the filter needs of Express's response (no @types/express here). */
export interface HttpResponseLike {
  headersSent: boolean;
  status(code: number): HttpResponseLike;
  json(body: unknown): unknown;
  end(): unknown;
}

export interface ApiErrorBody {
  statusCode: number;
  error: string;
  message: string;
  /** The request field at fault. */
  field?: string;
  /** Every problem found in the request, by field. */
  problems?: Array<{ field: string; message: string }>;
  /** For an OpenFlow error from the NIC: its type and code names. */
  ofp?: { type: string; code: string };
  /** For a NIC driver error: its code. */
  code?: string;
  /** For a flow given as text: the bad token and where it starts (1-based, as in the message). */
  token?: string;
  position?: number;
}

const REASON: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  409: 'Conflict',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** NIC driver error codes (the emulator's NicError codes) → status. */
const NIC_CODE_STATUS: Record<string, number> = {
  EXISTS: 409,
  PORT_IN_USE: 409,
  NO_SUCH_PORT: 400,
  BAD_ARGUMENT: 400,
  PORT_NOT_ATTACHED: 400,
  NO_SUCH_INSTANCE: 404,
};

/** A validation problem list from class-validator's tree, fields as dotted paths ("channel.mode"). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): Array<{ field: string; message: string }> {
  const out: Array<{ field: string; message: string }> = [];
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    for (const m of Object.values(e.constraints ?? {})) {
      // class-validator names nested properties by their own name only: say the full path
      out.push({ field, message: m.startsWith(`${e.property} `) && parent ? `${field}${m.slice(e.property.length)}` : m });
    }
    if (e.children?.length) out.push(...flattenValidationErrors(e.children, field));
  }
  return out;
}

/** The ValidationPipe's exceptionFactory: one 400 naming every bad field. */
export function validationException(errors: ValidationError[]): BadRequestException {
  const problems = flattenValidationErrors(errors);
  const body: ApiErrorBody = {
    statusCode: 400,
    error: 'Bad Request',
    message: problems.map((p) => p.message).join('; ') || 'invalid request',
    ...(problems[0] ? { field: problems[0].field } : {}),
    problems,
  };
  return new BadRequestException(body);
}

/** The API's answer for any error. */
export function toApiError(e: unknown): ApiErrorBody {
  if (e instanceof DomainError) {
    const statusCode = DOMAIN_STATUS[e.kind];
    return { statusCode, error: REASON[statusCode]!, message: e.message, ...(e.field ? { field: e.field } : {}), ...(e.extra ?? {}) };
  }
  if (e instanceof OfpError) {
    return { statusCode: 400, error: 'Bad Request', message: e.message, ofp: { type: errorTypeName(e.type), code: errorCodeName(e.type, e.code) } };
  }
  if (e instanceof HttpException) {
    const statusCode = e.getStatus();
    const r = e.getResponse();
    if (typeof r === 'object' && r !== null && typeof (r as ApiErrorBody).message === 'string') {
      return { ...(r as ApiErrorBody), error: (r as ApiErrorBody).error ?? REASON[statusCode] ?? e.name, statusCode };
    }
    const msg = typeof r === 'object' && r !== null ? (r as { message?: unknown }).message : r;
    return { statusCode, error: REASON[statusCode] ?? e.name, message: Array.isArray(msg) ? msg.join('; ') : String(msg ?? e.message) };
  }
  if (e instanceof RpcException) {
    const err = e.getError();
    if (typeof err === 'object' && err !== null && typeof (err as ApiErrorBody).statusCode === 'number') return err as ApiErrorBody;
    return { statusCode: 400, error: 'Bad Request', message: typeof err === 'string' ? err : String((err as { message?: unknown }).message ?? err) };
  }
  const code = (e as { code?: unknown })?.code;
  if (typeof code === 'string' && NIC_CODE_STATUS[code] !== undefined) {
    const statusCode = NIC_CODE_STATUS[code]!;
    return { statusCode, error: REASON[statusCode]!, message: (e as Error).message, code };
  }
  // the OpenFlow core may wrap an OFPT_ERROR reply from the NIC: { error: { errType, code } }
  const ofpReply = (e as { error?: { errType?: unknown; code?: unknown } })?.error;
  if (ofpReply && typeof ofpReply.errType === 'number' && typeof ofpReply.code === 'number') {
    return {
      statusCode: 400,
      error: 'Bad Request',
      message: (e as Error).message,
      ofp: { type: errorTypeName(ofpReply.errType), code: errorCodeName(ofpReply.errType, ofpReply.code) },
    };
  }
  return { statusCode: 500, error: REASON[500]!, message: (e as Error)?.message ?? String(e) };
}

@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly log = new Logger('Api');

  catch(e: unknown, host: ArgumentsHost): Observable<never> | void {
    const body = toApiError(e);
    if (body.statusCode >= 500) this.log.error((e as Error)?.stack ?? String(e));
    if (host.getType() === 'rpc') return throwError(() => body);
    if (host.getType() === 'http') {
      const res = host.switchToHttp().getResponse<HttpResponseLike>();
      if (res.headersSent) {
        res.end();
        return;
      }
      res.status(body.statusCode).json(body);
    }
  }
}
