/**
 * The self-service portal's JSON API at /api/r/<resource>/...: the portal
 * service of src/provision/selfservice.ts behind a session cookie. Sessions,
 * rate-limit buckets and counters live in the store (several portal
 * processes on one database act as one); the session id is chosen here at
 * sign-in, and only its hash is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TokensmithError, UsageError } from '../core/errors.js';
import type { Mailer } from '../provision/mailer.js';
import { checkField, DEFAULT_PORTAL_LIMITS, optionalField, RateLimitedError, requiredField, type PortalLimits } from '../provision/portal-rules.js';
import { findResource } from '../provision/resources.js';
import { beginSignIn, PortalSession, signIn } from '../provision/selfservice.js';
import type { ResourceRecord, Store } from '../store/types.js';
import { errorToWire } from '../transport/web/bridge.js';

export const PORTAL_COOKIE = 'tokensmith_portal';
/** Portal requests carry a few short fields: anything bigger is refused before it is parsed. */
const BODY_LIMIT = 16 * 1024;
/** How often (at most) a process deletes ended sessions, expired codes and old buckets. */
const PRUNE_EVERY_MS = 60_000;
/** A failed-try counter nobody touched for this long is forgotten. */
const STALE_COUNTER_MS = 24 * 60 * 60_000;

export interface SelfServiceDeps {
  store: Store;
  mailer: Mailer;
  /** Rate limits, session time-outs and the email cool-down; DEFAULT_PORTAL_LIMITS where not given. */
  limits?: Partial<PortalLimits>;
  /** The time (tests move it). */
  now?: () => Date;
}

type Params = { Params: { resource: string; action?: string }; Body: unknown };
type Req = FastifyRequest<Params>;

const userBucket = (resource: string, login: string) => `user:${JSON.stringify([resource, login])}`;
const hashSessionId = (sid: string) => createHash('sha256').update(sid).digest('hex');

/** The portal cookie's value, or undefined (a malformed header is no session, not an error). */
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

function httpStatus(e: unknown): number {
  if (e instanceof RateLimitedError) return 429;
  return e instanceof TokensmithError ? ({ 2: 400, 3: 502, 4: 422, 5: 403 } as Record<number, number>)[e.exitCode] ?? 500 : 500;
}

export function registerSelfServiceApi(app: FastifyInstance, deps: SelfServiceDeps): void {
  const limits: PortalLimits = { ...DEFAULT_PORTAL_LIMITS, ...deps.limits };
  const now = deps.now ?? (() => new Date());
  const { store } = deps;
  let prunedAt = 0;

  const cookie = (req: Req, r: ResourceRecord, value: string, maxAge?: number) =>
    `${PORTAL_COOKIE}=${value}; Path=/api/r/${encodeURIComponent(r.name)}; HttpOnly; SameSite=Strict${req.protocol === 'https' ? '; Secure' : ''}${maxAge !== undefined ? `; Max-Age=${maxAge}` : ''}`;

  /** Counts the request in its buckets (overall, address, user); refuses with 429 over a limit. */
  const rateLimit = async (req: Req, user: string | null) => {
    const nowMs = now().getTime();
    const buckets: [RateLimitedError['scope'], string, number][] = [
      ['overall', 'all', limits.overall],
      ['address', `ip:${req.ip}`, limits.perAddress],
    ];
    if (user) buckets.push(['user', userBucket(req.params.resource, user), limits.perUser]);
    for (const [scope, bucket, max] of buckets) {
      const hit = await store.transaction((tx) => tx.portal.hitRateBucket(bucket, limits.rateWindowMs, nowMs));
      if (hit.hits > max) throw new RateLimitedError(scope, Math.max(1, Math.ceil((hit.windowStartMs + limits.rateWindowMs - nowMs) / 1000)));
    }
    if (nowMs - prunedAt > PRUNE_EVERY_MS) {
      prunedAt = nowMs;
      await store.transaction((tx) => tx.portal.prune(nowMs, { idleMs: limits.sessionIdleMs, bucketMs: limits.rateWindowMs, staleBeforeMs: nowMs - STALE_COUNTER_MS }));
    }
  };

  /** The live session of this request in this Resource, or null. */
  const current = async (req: Req, r: ResourceRecord): Promise<PortalSession | null> => {
    const sid = sessionCookie(req.headers.cookie);
    if (!sid) return null;
    const idHash = hashSessionId(sid);
    const live = await store.transaction((tx) => tx.portal.touchSession(idHash, r.id, now().getTime(), limits.sessionIdleMs));
    const user = live ? await store.users.get(live.userId) : null;
    return user ? new PortalSession(store, r.name, user.login, { userId: user.id, resourceId: r.id, sessionIdHash: idHash }) : null;
  };

  /** Runs a route: the Resource, the limits, and every failure as { error } with its HTTP status (429 with Retry-After). */
  const route = (user: (req: Req) => string | null, handler: (req: Req, reply: FastifyReply, r: ResourceRecord) => Promise<unknown>) => async (req: Req, reply: FastifyReply) => {
    try {
      checkField('resource', req.params.resource);
      await rateLimit(req, user(req));
      return await handler(req, reply, await findResource(store, req.params.resource));
    } catch (e) {
      if (e instanceof RateLimitedError) reply.header('Retry-After', String(e.retryAfterSec));
      // Only our own errors speak; anything else may hold internals.
      const error = e instanceof TokensmithError ? errorToWire(e) : { message: 'the portal failed to answer; try again later', code: 'failure', exitCode: 1 };
      return reply.code(httpStatus(e)).send({ error });
    }
  };
  const loginOf = (req: Req) => optionalField(req.body, 'login')?.trim() ?? null;
  const opts = { bodyLimit: BODY_LIMIT };

  app.post<Params>('/api/r/:resource/signin/begin', opts, route(loginOf, async (req, _reply, r) => beginSignIn(store, deps.mailer, { resource: r.name, login: requiredField(req.body, 'login'), at: now(), limits })));

  app.post<Params>(
    '/api/r/:resource/signin',
    opts,
    route(loginOf, async (req, reply, r) => {
      const b = req.body;
      const session = await signIn(store, { resource: r.name, login: requiredField(b, 'login'), password: optionalField(b, 'password'), emailCode: optionalField(b, 'emailCode'), tokenCode: optionalField(b, 'tokenCode'), at: now() });
      // A new id at every sign-in, never one the client offered; the one it held before ends.
      const before = sessionCookie(req.headers.cookie);
      const sid = randomBytes(32).toString('base64url');
      const nowMs = now().getTime();
      await store.transaction(async (tx) => {
        if (before) await tx.portal.endSession(hashSessionId(before));
        await tx.portal.createSession({ idHash: hashSessionId(sid), resourceId: r.id, userId: session.ids!.userId, nowMs, expiresMs: nowMs + limits.sessionMaxMs });
      });
      reply.header('Set-Cookie', cookie(req, r, sid));
      return session.overview();
    }),
  );

  app.post<Params>(
    '/api/r/:resource/signout',
    opts,
    route(
      () => null,
      async (req, reply, r) => {
        const sid = sessionCookie(req.headers.cookie);
        if (sid) await store.transaction((tx) => tx.portal.endSession(hashSessionId(sid)));
        reply.header('Set-Cookie', cookie(req, r, '', 0));
        return { signedOut: true };
      },
    ),
  );

  const signedOut = (reply: FastifyReply) => reply.code(401).send({ error: { message: 'sign in first (or again: the session ended)', code: 'signed-out', exitCode: 5 } });

  app.get<Params>(
    '/api/r/:resource/me',
    route(
      () => null,
      async (req, reply, r) => {
        const s = await current(req, r);
        return s ? { login: s.login, ...(await s.overview()) } : signedOut(reply);
      },
    ),
  );

  app.post<Params>(
    '/api/r/:resource/actions/:action',
    opts,
    route(
      () => null,
      async (req, reply, r) => {
        const s = await current(req, r);
        if (!s) return signedOut(reply);
        // Counted for the signed-in user too: one user cannot flood the actions.
        const hit = await store.transaction((tx) => tx.portal.hitRateBucket(userBucket(r.name, s.login), limits.rateWindowMs, now().getTime()));
        if (hit.hits > limits.perUser) throw new RateLimitedError('user', Math.max(1, Math.ceil((hit.windowStartMs + limits.rateWindowMs - now().getTime()) / 1000)));
        return runAction(s, req.params.action ?? '', req.body, now());
      },
    ),
  );
}

/** One portal action with its fields checked; the service checks the Resource's rules. */
async function runAction(s: PortalSession, action: string, b: unknown, at: Date): Promise<unknown> {
  const renamed = (next: PortalSession) => ({ login: next.login });
  switch (action) {
    case 'enroll':
      return s.enroll(requiredField(b, 'serial').trim(), requiredField(b, 'code').trim(), at);
    case 'assign-existing':
      return s.assignExisting(requiredField(b, 'serial').trim());
    case 'unassign':
      return s.unassign();
    case 'reissue':
      return s.reissue();
    case 'synchronize':
      return s.synchronize([requiredField(b, 'code1').trim(), requiredField(b, 'code2').trim()], at);
    case 'change-password':
      return renamed(await s.changePassword(optionalField(b, 'currentPassword'), requiredField(b, 'password'), at));
    case 'change-email':
      return renamed(await s.changeEmail(requiredField(b, 'email')));
    case 'change-phone':
      return renamed(await s.changePhone(requiredField(b, 'phone')));
    case 'change-name':
      return renamed(await s.changeName(requiredField(b, 'name')));
    case 'change-login':
      return renamed(await s.changeLogin(requiredField(b, 'login')));
    default:
      throw new UsageError(`unknown action '${checkField('action', action).slice(0, 64)}'`, 'unknown-action');
  }
}
