/**
 * The self-service portal's JSON API at /api/r/<resource>/...: the portal
 * service of src/provision/selfservice.ts behind a session cookie. Sessions,
 * rate-limit buckets and counters live in the store (several portal
 * processes on one database act as one); the session id is chosen here at
 * sign-in, and only its hash is stored.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UsageError } from '../core/errors.js';
import type { Mailer } from '../provision/mailer.js';
import { checkField, optionalField, requiredField, type PortalLimits } from '../provision/portal-rules.js';
import { beginSignIn, signIn, type PortalSession } from '../provision/selfservice.js';
import type { ResourceRecord, Store } from '../store/types.js';
import { PortalGuard, portalCookie, sendPortalFailure, unknownResource } from './portal-guard.js';

export { PORTAL_COOKIE } from './portal-guard.js';
/** Portal requests carry a few short fields: anything bigger is refused before it is parsed. */
const BODY_LIMIT = 16 * 1024;

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
type Handler = (req: Req, reply: FastifyReply, r: ResourceRecord) => Promise<unknown>;

export function registerSelfServiceApi(app: FastifyInstance, deps: SelfServiceDeps): void {
  const { store } = deps;
  const guard = new PortalGuard(store, deps.limits, deps.now);
  const opts = { bodyLimit: BODY_LIMIT };
  const secure = (req: Req) => req.protocol === 'https';

  /** Runs a route: the field checks, the rate limits (by the login when `byLogin`), the Resource, and any failure as its HTTP answer. */
  const route = (byLogin: boolean, handler: Handler) => async (req: Req, reply: FastifyReply) => {
    try {
      checkField('resource', req.params.resource);
      await guard.rateLimit(
        req.ip,
        req.params.resource,
        byLogin ? (optionalField(req.body, 'login')?.trim() ?? null) : null,
      );
      const r = await store.resources.findByName(req.params.resource);
      return r ? await handler(req, reply, r) : unknownResource(reply, req.params.resource);
    } catch (e) {
      return sendPortalFailure(reply, e);
    }
  };
  const signedOut = (reply: FastifyReply) =>
    reply
      .code(401)
      .send({ error: { message: 'sign in first (or again: the session ended)', code: 'signed-out', exitCode: 5 } });

  app.post<Params>(
    '/api/r/:resource/signin/begin',
    opts,
    route(true, async (req, _reply, r) =>
      beginSignIn(store, deps.mailer, {
        resource: r.name,
        login: requiredField(req.body, 'login'),
        at: guard.now(),
        limits: guard.limits,
      }),
    ),
  );

  app.post<Params>(
    '/api/r/:resource/signin',
    opts,
    route(true, async (req, reply, r) => {
      const b = req.body;
      const session = await signIn(store, {
        resource: r.name,
        login: requiredField(b, 'login'),
        password: optionalField(b, 'password'),
        emailCode: optionalField(b, 'emailCode'),
        tokenCode: optionalField(b, 'tokenCode'),
        at: guard.now(),
      });
      const sid = await guard.start(req.headers.cookie, r, session.ids!.userId);
      reply.header('Set-Cookie', portalCookie(r, sid, secure(req)));
      return session.overview();
    }),
  );

  app.post<Params>(
    '/api/r/:resource/signout',
    opts,
    route(false, async (req, reply, r) => {
      await guard.end(req.headers.cookie);
      reply.header('Set-Cookie', portalCookie(r, '', secure(req), 0));
      return { signedOut: true };
    }),
  );

  app.get<Params>(
    '/api/r/:resource/me',
    route(false, async (req, reply, r) => {
      const s = await guard.current(req.headers.cookie, r);
      return s ? { login: s.login, ...(await s.overview()) } : signedOut(reply);
    }),
  );

  app.post<Params>(
    '/api/r/:resource/actions/:action',
    opts,
    route(false, async (req, reply, r) => {
      const s = await guard.current(req.headers.cookie, r);
      if (!s) return signedOut(reply);
      await guard.countAction(r, s.login);
      const result = await runAction(s, req.params.action ?? '', req.body, guard.now());
      // A new password, a new session id: a copy of the old cookie (a reason to change it) stops working.
      if (req.params.action === 'change-password')
        reply.header(
          'Set-Cookie',
          portalCookie(r, await guard.start(req.headers.cookie, r, s.ids!.userId), secure(req)),
        );
      return result;
    }),
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
