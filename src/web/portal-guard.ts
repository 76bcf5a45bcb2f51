/**
 * What stands in front of every portal route: the rate-limit buckets, the
 * session cookie and the stored session (only the SHA-256 of its id), and
 * the HTTP form of a failure. All of it lives in the store, so several
 * portal processes on one database share it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply } from 'fastify';
import { TokensmithError } from '../core/errors.js';
import { checkField, DEFAULT_PORTAL_LIMITS, RateLimitedError, type PortalLimits } from '../provision/portal-rules.js';
import { dummyPasswordHash } from '../provision/portal-signin.js';
import { PortalSession } from '../provision/selfservice.js';
import type { ResourceRecord, Store } from '../store/types.js';
import { errorToWire } from '../transport/web/bridge.js';

export const PORTAL_COOKIE = 'tokensmith_portal';
/** How often (at most) a process deletes ended sessions, expired codes and old buckets. */
const PRUNE_EVERY_MS = 60_000;
/** A failed-try counter nobody touched for this long is forgotten. */
const STALE_COUNTER_MS = 24 * 60 * 60_000;

const hashSessionId = (sid: string) => createHash('sha256').update(sid).digest('hex');
const userBucket = (resource: string, login: string) => `user:${JSON.stringify([resource, login])}`;

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail included). */
function ipv6Groups(ip: string): number[] {
  let text = ip.replace(/%.*$/, '').toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4)
    text =
      text.slice(0, v4.index) +
      [(+v4[1]! << 8) | +v4[2]!, (+v4[3]! << 8) | +v4[4]!].map((n) => n.toString(16)).join(':');
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (t: string | undefined) => (t ? t.split(':').map((g) => parseInt(g, 16)) : []);
  const front = part(head);
  const back = part(tail);
  return tail === undefined ? front : [...front, ...Array<number>(8 - front.length - back.length).fill(0), ...back];
}

/** The per-address bucket: IPv4 as itself (also when mapped into IPv6); IPv6 by its /64, the network one host or line is given. */
export function addressBucket(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip)?.[1];
  if (mapped || isIP(ip) === 4) return `ip:${mapped ?? ip}`;
  if (isIP(ip.replace(/%.*$/, '')) !== 6) return `ip:${ip}`;
  return `ip6:${ipv6Groups(ip)
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The portal cookie's value when it has the form the server gives (a malformed header is no session, not an error). */
function sessionCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === PORTAL_COOKIE) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{43}$/.test(v) ? v : undefined;
    }
  }
  return undefined;
}

/** Whether a Resource of that name exists (a name no Resource could have is none). */
export async function isPortalResource(store: Store, name: string): Promise<boolean> {
  try {
    checkField('resource', name);
  } catch {
    return false;
  }
  return (await store.resources.findByName(name)) !== null;
}

/** An unknown Resource is an unknown page: 404, and no hint of how an admin would create it. */
export function unknownResource(reply: FastifyReply, name: string): FastifyReply {
  const shown = JSON.stringify(name.slice(0, 64));
  return reply.code(404).send({
    error: {
      message: `there is no portal for ${shown} here: check the address you were given`,
      code: 'not-found',
      exitCode: 4,
    },
  });
}

/** Sends a failure as { error } with its HTTP status; only our own errors speak, anything else may hold internals. */
export function sendPortalFailure(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof RateLimitedError)
    return reply
      .code(429)
      .header('Retry-After', String(e.retryAfterSec))
      .send({ error: errorToWire(e) });
  if (!(e instanceof TokensmithError))
    return reply
      .code(500)
      .send({ error: { message: 'the portal failed to answer; try again later', code: 'failure', exitCode: 1 } });
  // A directory that does not answer is the server's trouble, not the user's: 503, try later.
  if (e.code === 'directory-unavailable') return reply.code(503).send({ error: errorToWire(e) });
  const status = ({ 2: 400, 3: 502, 4: 422, 5: 403 } as Record<number, number>)[e.exitCode] ?? 500;
  return reply.code(status).send({ error: errorToWire(e) });
}

export class PortalGuard {
  readonly limits: PortalLimits;
  private prunedAt = 0;

  constructor(
    private readonly store: Store,
    limits: Partial<PortalLimits> = {},
    readonly now: () => Date = () => new Date(),
  ) {
    this.limits = { ...DEFAULT_PORTAL_LIMITS, ...limits };
    void dummyPasswordHash();
  }

  /** Counts a request in its buckets (overall, client address, and the login when there is one); 429 over a limit. */
  async rateLimit(ip: string, resource: string, login: string | null): Promise<void> {
    const { limits } = this;
    const nowMs = this.now().getTime();
    const buckets: [RateLimitedError['scope'], string, number][] = [
      ['overall', 'all', limits.overall],
      ['address', addressBucket(ip), limits.perAddress],
    ];
    if (login) buckets.push(['user', userBucket(resource, login), limits.perUser]);
    for (const [scope, bucket, max] of buckets) {
      const hit = await this.store.transaction((tx) => tx.portal.hitRateBucket(bucket, limits.rateWindowMs, nowMs));
      if (hit.hits > max)
        throw new RateLimitedError(
          scope,
          Math.max(1, Math.ceil((hit.windowStartMs + limits.rateWindowMs - nowMs) / 1000)),
        );
    }
    if (nowMs - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = nowMs;
      await this.store.transaction((tx) =>
        tx.portal.prune(nowMs, {
          idleMs: limits.sessionIdleMs,
          bucketMs: limits.rateWindowMs,
          staleBeforeMs: nowMs - STALE_COUNTER_MS,
        }),
      );
    }
  }

  /** The live session the cookie names in this Resource (marked seen now), or null. */
  async current(cookieHeader: string | undefined, r: ResourceRecord): Promise<PortalSession | null> {
    const sid = sessionCookie(cookieHeader);
    if (!sid) return null;
    const idHash = hashSessionId(sid);
    const live = await this.store.transaction((tx) =>
      tx.portal.touchSession(idHash, r.id, this.now().getTime(), this.limits.sessionIdleMs),
    );
    const user = live ? await this.store.users.get(live.userId) : null;
    if (user && !(await this.store.users.isInResource(user.id, r.id))) {
      // Taken out of the Resource since signing in: the session ends with the membership.
      await this.store.transaction((tx) => tx.portal.endSession(idHash));
      return null;
    }
    return user
      ? new PortalSession(this.store, r.name, user.login, { userId: user.id, resourceId: r.id, sessionIdHash: idHash })
      : null;
  }

  /** A new session with an id chosen here (never one the client offered); the one the cookie held ends. Returns the id. */
  async start(cookieHeader: string | undefined, r: ResourceRecord, userId: number): Promise<string> {
    const before = sessionCookie(cookieHeader);
    const sid = randomBytes(32).toString('base64url');
    const nowMs = this.now().getTime();
    await this.store.transaction(async (tx) => {
      if (before) await tx.portal.endSession(hashSessionId(before));
      await tx.portal.createSession({
        idHash: hashSessionId(sid),
        resourceId: r.id,
        userId,
        nowMs,
        expiresMs: nowMs + this.limits.sessionMaxMs,
      });
    });
    return sid;
  }

  async end(cookieHeader: string | undefined): Promise<void> {
    const sid = sessionCookie(cookieHeader);
    if (sid) await this.store.transaction((tx) => tx.portal.endSession(hashSessionId(sid)));
  }

  /** Counts an action of a signed-in user in the user's bucket. */
  async countAction(r: ResourceRecord, login: string): Promise<void> {
    const nowMs = this.now().getTime();
    const hit = await this.store.transaction((tx) =>
      tx.portal.hitRateBucket(userBucket(r.name, login), this.limits.rateWindowMs, nowMs),
    );
    if (hit.hits > this.limits.perUser)
      throw new RateLimitedError(
        'user',
        Math.max(1, Math.ceil((hit.windowStartMs + this.limits.rateWindowMs - nowMs) / 1000)),
      );
  }
}

/** The Set-Cookie value: scoped to the Resource's API, never readable by scripts, Secure over HTTPS. */
export function portalCookie(r: ResourceRecord, value: string, secure: boolean, maxAge?: number): string {
  return `${PORTAL_COOKIE}=${value}; Path=/api/r/${encodeURIComponent(r.name)}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}${maxAge !== undefined ? `; Max-Age=${maxAge}` : ''}`;
}
