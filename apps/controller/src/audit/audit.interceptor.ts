/**
 * Audits every orchestrator call, REST or RPC: handlers marked @Audited(action)
 * leave one entry (who, when, which vNF and tenant, the request, the result
 * and its status) whether they succeed or fail. Over HTTP the entry is written
 * when the response is finished, so it carries the status actually sent.
 */
import { CallHandler, ExecutionContext, Injectable, NestInterceptor, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { catchError, Observable, tap, throwError } from 'rxjs';
import { toApiError } from '../instances/api-exception.filter.js';
import { AuditService } from './audit.service.js';

const AUDIT_ACTION = 'nicvisor:audit-action';

/** Marks a handler as an orchestrator call to audit under `action`. */
export const Audited = (action: string): MethodDecorator & ClassDecorator => SetMetadata(AUDIT_ACTION, action);

interface HttpReqLike {
  ip?: string;
  method?: string;
  params?: Record<string, string>;
  query?: Record<string, unknown>;
  body?: unknown;
  headers?: Record<string, string | string[] | undefined>;
}
interface HttpResLike {
  statusCode: number;
  once(event: 'finish' | 'close', fn: () => void): unknown;
}

function str(x: unknown): string | undefined {
  return typeof x === 'string' && x.length > 0 ? x : undefined;
}

@Injectable()
export class AuditInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const action = this.reflector.get<string | undefined>(AUDIT_ACTION, ctx.getHandler());
    if (action === undefined) return next.handle();
    if (ctx.getType() === 'http') return this.http(action, ctx, next);
    const payload = ctx.switchToRpc().getData<unknown>();
    const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
    const vnf = str(p.vnf);
    const base = { actor: 'rpc', action, ...this.who(vnf, str(p.tenant)), request: payload };
    return next.handle().pipe(
      tap(() => this.audit.record({ ...base, result: 'ok', status: 200 })),
      catchError((e: unknown) => {
        const err = toApiError(e);
        this.audit.record({ ...base, result: err.error, status: err.statusCode, detail: err.message });
        return throwError(() => e);
      }),
    );
  }

  private http(action: string, ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<HttpReqLike>();
    const res = ctx.switchToHttp().getResponse<HttpResLike>();
    const body = req.body !== undefined && typeof req.body === 'object' && Object.keys(req.body as object).length > 0 ? req.body : undefined;
    const b = (body ?? {}) as Record<string, unknown>;
    const vnf = str(req.params?.vnf) ?? str(b.vnf) ?? str(req.query?.vnf);
    const request = { method: req.method, ...(Object.keys(req.query ?? {}).length ? { query: req.query } : {}), ...(body ? { body } : {}) };
    const entry = { actor: `rest ${req.ip ?? '?'}`, action, ...this.who(vnf, str(b.tenant) ?? str(req.query?.tenant)), request };
    let detail: string | undefined;
    let failure: string | undefined;
    let written = false;
    const write = (): void => {
      if (written) return;
      written = true;
      const ok = res.statusCode < 400;
      this.audit.record({ ...entry, result: ok ? 'ok' : (failure ?? 'error'), status: res.statusCode, ...(detail ? { detail } : {}) });
    };
    res.once('finish', write);
    res.once('close', write);
    return next.handle().pipe(
      catchError((e: unknown) => {
        const err = toApiError(e);
        detail = err.message;
        failure = err.error;
        return throwError(() => e);
      }),
    );
  }

  private who(vnf: string | undefined, tenant: string | undefined): { vnf?: string; tenant?: string } {
    const t = (vnf === undefined ? undefined : this.audit.tenantOf(vnf)) ?? tenant;
    return { ...(vnf === undefined ? {} : { vnf }), ...(t === undefined ? {} : { tenant: t }) };
  }
}
