/**
 * Datapath id → the NicSession connected for it, with "wait until
 * connected" (allocation creates an instance, then waits for it to dial in)
 * and one async-message stream per datapath that survives reconnections.
 */
import { Observable, Subject } from 'rxjs';
import { dpidText, NicAsyncEvent, NicSession } from './nic-session.js';

interface Waiter {
  resolve: (s: NicSession) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class NicRegistry {
  private readonly sessions = new Map<bigint, NicSession>();
  private readonly waiters = new Map<bigint, Set<Waiter>>();
  private readonly streams = new Map<bigint, Subject<NicAsyncEvent>>();
  /** A session finished its handshake (first connection or a reconnection). */
  readonly connected$ = new Subject<NicSession>();
  /** A registered session closed. */
  readonly disconnected$ = new Subject<{ datapathId: bigint; reason: string }>();
  private lastGeneration = 0n;

  /**
   * A generation id for a master role request, larger than every one this
   * registry gave before and than those of an earlier run (time-based), so a
   * NIC instance that outlives a controller restart does not find it stale.
   */
  nextGenerationId(): bigint {
    const t = BigInt(Date.now()) * 1000n;
    this.lastGeneration = t > this.lastGeneration ? t : this.lastGeneration + 1n;
    return this.lastGeneration;
  }

  /** The ready session of a datapath, if connected. */
  get(datapathId: bigint): NicSession | undefined {
    return this.sessions.get(datapathId);
  }

  list(): NicSession[] {
    return [...this.sessions.values()];
  }

  /** Resolves with the datapath's session once it is ready (at once if it is). */
  waitFor(datapathId: bigint, timeoutMs = 10_000): Promise<NicSession> {
    const s = this.sessions.get(datapathId);
    if (s !== undefined) return Promise.resolve(s);
    return new Promise<NicSession>((resolve, reject) => {
      let set = this.waiters.get(datapathId);
      if (set === undefined) this.waiters.set(datapathId, (set = new Set()));
      const w: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          set.delete(w);
          reject(new Error(`instance ${dpidText(datapathId)} did not connect within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      set.add(w);
    });
  }

  /** Packet-in, flow-removed and port-status of a datapath, across reconnections. */
  async$(datapathId: bigint): Observable<NicAsyncEvent> {
    return this.stream(datapathId).asObservable();
  }

  /** Registers a session once its handshake is done; a previous session of the same datapath is closed. */
  add(session: NicSession): void {
    const dpid = session.datapathId;
    if (dpid === undefined || session.state !== 'ready') throw new Error('only a ready session can be registered');
    const old = this.sessions.get(dpid);
    if (old !== undefined && old !== session) old.close('replaced by a new connection of the same datapath');
    this.sessions.set(dpid, session);
    const stream = this.stream(dpid);
    session.async$.subscribe({ next: (e) => stream.next(e) });
    void session.closed.then((reason) => {
      if (this.sessions.get(dpid) !== session) return;
      this.sessions.delete(dpid);
      this.disconnected$.next({ datapathId: dpid, reason });
    });
    const ws = this.waiters.get(dpid);
    if (ws !== undefined) {
      this.waiters.delete(dpid);
      for (const w of ws) {
        clearTimeout(w.timer);
        w.resolve(session);
      }
    }
    this.connected$.next(session);
    session.releaseEarlyAsync();
  }

  /** Forgets a datapath (its instance was destroyed): closes its session and its stream. */
  forget(datapathId: bigint, reason = 'instance destroyed'): void {
    const s = this.sessions.get(datapathId);
    this.sessions.delete(datapathId);
    s?.close(reason);
    this.streams.get(datapathId)?.complete();
    this.streams.delete(datapathId);
  }

  /** Closes every session and fails every waiter. */
  close(): void {
    for (const s of [...this.sessions.values()]) s.close('controller shutting down');
    this.sessions.clear();
    for (const [, set] of this.waiters) {
      for (const w of set) {
        clearTimeout(w.timer);
        w.reject(new Error('controller shutting down'));
      }
    }
    this.waiters.clear();
    for (const s of this.streams.values()) s.complete();
    this.streams.clear();
  }

  private stream(datapathId: bigint): Subject<NicAsyncEvent> {
    let s = this.streams.get(datapathId);
    if (s === undefined) this.streams.set(datapathId, (s = new Subject<NicAsyncEvent>()));
    return s;
  }
}
