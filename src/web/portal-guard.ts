/**
 * What stands in front of every portal route: the rate-limit buckets, the
 * session cookie and the stored session (only the SHA-256 of its id), and
 * the HTTP form of a failure. All of it lives in the store, so several
 * portal processes on one database share it.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyReply } from 'fastify';
import { PolicyError, TokensmithError, UsageError } from '../core/errors.js';
import { checkField, DEFAULT_PORTAL_LIMITS, RateLimitedError, type PortalLimits } from '../provision/portal-rules.js';
import { dummyPasswordHash } from '../provision/portal-password.js';
import { PortalSession } from '../provision/selfservice.js';
import type { ResourceRecord, Store } from '../store/types.js';
import { errorToWire } from '../transport/web/bridge.js';

export const PORTAL_COOKIE = 'tokensmith_portal';
/** Over https: a cookie only this host can set (no Domain, Path=/, Secure), so a sibling subdomain cannot plant one. */
export const PORTAL_HOST_COOKIE = '__Host-tokensmith_portal';
/** The page sends back the tag of the session it was loaded with; an action under another session is refused. */
export const SESSION_TAG_HEADER = 'x-portal-session';
/** How often (at most) a process deletes ended sessions, expired codes and old buckets. */
const PRUNE_EVERY_MS = 60_000;
/** A failed-try counter nobody touched for this long is forgotten. */
const STALE_COUNTER_MS = 24 * 60 * 60_000;

const hashSessionId = (sid: string) => createHash('sha256').update(sid).digest('hex');
/** What the page holds of its session: derived from the id, tells nothing of it. */
export const sessionTag = (sid: string) => createHash('sha256').update(`tag:${sid}`).digest('base64url').slice(0, 22);
const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;
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

/** Every value of a session cookie (either name) in the Cookie header. */
function sessionCookies(header: string | undefined): string[] {
  const found: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    const name = i > 0 ? part.slice(0, i).trim() : '';
    if (name === PORTAL_COOKIE || name === PORTAL_HOST_COOKIE) found.push(part.slice(i + 1).trim());
  }
  return found;
}

/**
 * The portal cookie's value when it has the form the server gives (a malformed one is no session, not an error).
 * Two session cookies are refused: the second was planted (another port, a sibling host, a deeper path).
 */
function sessionCookie(header: string | undefined): string | undefined {
  const all = sessionCookies(header);
  if (all.length > 1)
    throw new UsageError(
      "refused: this request carries two portal session cookies, and one may have been planted by another site; clear this site's cookies in the browser and sign in again",
      'two-session-cookies',
    );
  return all[0] !== undefined && /^[A-Za-z0-9_-]{43}$/.test(all[0]) ? all[0] : undefined;
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

  /**
   * Counts a request: its address first, then its login; only a request both let through counts in the portal's
   * overall budget, and while that is spent an address gets perAddressUnderLoad requests: no client shuts the portal.
   */
  async rateLimit(ip: string, resource: string, login: string | null): Promise<void> {
    const { limits } = this;
    const address = await this.hit('address', addressBucket(ip), limits.perAddress);
    if (login) await this.hit('user', userBucket(resource, login), limits.perUser);
    const all = await this.hit('overall', 'all', Infinity);
    if (all.hits > limits.overall && address.hits > limits.perAddressUnderLoad)
      await this.refuse('overall', 'all', all.hits - limits.overall, all.windowStartMs);
    await this.pruneNowAndThen();
  }

  /** One hit in a bucket; over `max`, the 429. */
  private async hit(scope: RateLimitedError['scope'], bucket: string, max: number) {
    const nowMs = this.now().getTime();
    const hit = await this.store.transaction((tx) => tx.portal.hitRateBucket(bucket, this.limits.rateWindowMs, nowMs));
    if (hit.hits > max) await this.refuse(scope, bucket, hit.hits - max, hit.windowStartMs);
    return hit;
  }

  /** The 429, counted in the audit log at the 1st, 2nd, 4th, 8th ... refusal of a bucket's window (not a row each). */
  private async refuse(
    scope: RateLimitedError['scope'],
    bucket: string,
    over: number,
    windowStartMs: number,
  ): Promise<never> {
    const nowMs = this.now().getTime();
    if (isPowerOfTwo(over))
      await this.store.audit.append({
        action: 'portal.rate-limited',
        subject: `portal:${scope}`,
        actor: 'portal',
        details: { bucket, refusedSoFar: over, windowStart: new Date(windowStartMs).toISOString() },
      });
    throw new RateLimitedError(
      scope,
      Math.max(1, Math.ceil((windowStartMs + this.limits.rateWindowMs - nowMs) / 1000)),
    );
  }

  private async pruneNowAndThen(): Promise<void> {
    const nowMs = this.now().getTime();
    if (nowMs - this.prunedAt <= PRUNE_EVERY_MS) return;
    this.prunedAt = nowMs;
    await this.store.transaction((tx) =>
      tx.portal.prune(nowMs, {
        idleMs: this.limits.sessionIdleMs,
        bucketMs: this.limits.rateWindowMs,
        staleBeforeMs: nowMs - STALE_COUNTER_MS,
      }),
    );
  }

  /**
   * The live session the cookie names in this Resource (marked seen now), or null. `pageTag`: the tag of the
   * session the page was loaded with (actions send it); a cookie swapped since then is refused.
   */
  async current(
    cookieHeader: string | undefined,
    r: ResourceRecord,
    pageTag?: string | string[] | null,
  ): Promise<PortalSession | null> {
    const sid = sessionCookie(cookieHeader);
    if (!sid) return null;
    if (pageTag !== undefined && pageTag !== sessionTag(sid))
      throw new PolicyError(
        'refused: the session changed since this page was loaded (another sign-in, or a cookie set by another site); reload the page',
        { code: 'session-changed' },
      );
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

  /** The tag of the session the cookie names (the page keeps it and sends it with each action). */
  tagOf(cookieHeader: string | undefined): string | undefined {
    const sid = sessionCookie(cookieHeader);
    return sid ? sessionTag(sid) : undefined;
  }

  async end(cookieHeader: string | undefined): Promise<void> {
    const sid = sessionCookie(cookieHeader);
    if (sid) await this.store.transaction((tx) => tx.portal.endSession(hashSessionId(sid)));
  }

  /** Counts an action of a signed-in user in the user's bucket. */
  async countAction(r: ResourceRecord, login: string): Promise<void> {
    await this.hit('user', userBucket(r.name, login), this.limits.perUser);
  }
}

/**
 * The Set-Cookie value, never readable by scripts. Over https a __Host- cookie (Path=/, Secure: no other host,
 * port or path can set one); over plain http (loopback, tests) one scoped to the Resource's API.
 */
export function portalCookie(r: ResourceRecord, value: string, secure: boolean, maxAge?: number): string {
  const age = maxAge !== undefined ? `; Max-Age=${maxAge}` : '';
  return secure
    ? `${PORTAL_HOST_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Secure${age}`
    : `${PORTAL_COOKIE}=${value}; Path=/api/r/${encodeURIComponent(r.name)}; HttpOnly; SameSite=Strict${age}`;
}
