/**
 * The self-service portal's JSON API at /api/r/<resource>/...: the portal
 * service of src/provision/selfservice.ts behind a session cookie. Sessions,
 * rate-limit buckets and counters live in the store (several portal
 * processes on one database act as one); the session id is chosen here at
 * sign-in, and only its hash is stored. Every request and answer is in
 * docs/portal.md ("The API").
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UsageError } from '../core/errors.js';
import type { Mailer } from '../provision/mailer.js';
import { checkField, optionalField, requiredField, type PortalLimits } from '../provision/portal-rules.js';
import { beginSignIn, signIn, type PortalSession } from '../provision/selfservice.js';
import type { ResourceRecord, Store } from '../store/types.js';
import { clientIp } from './portal-http.js';
import {
  PortalGuard,
  portalCookie,
  sendPortalFailure,
  SESSION_TAG_HEADER,
  sessionTag,
  unknownResource,
} from './portal-guard.js';

export { PORTAL_COOKIE, PORTAL_HOST_COOKIE } from './portal-guard.js';
/** Portal requests carry a few short fields: anything bigger is refused before it is parsed. */
const BODY_LIMIT = 16 * 1024;

export interface SelfServiceDeps {
  store: Store;
  mailer: Mailer;
  /** Rate limits, session time-outs and the email cool-down; DEFAULT_PORTAL_LIMITS where not given. */
  limits?: Partial<PortalLimits>;
  /** The time (tests move it). */
  now?: () => Date;
  /** The address users open the portal at (--public-url, else where it listens): sign-in mails link to <it>/r/<resource>. */
  portalUrl?: () => string;
  /** Told when a sign-in code could not be mailed (the caller is answered as if it had left). */
  onMailFailure?: (message: string) => void;
}

type Params = { Params: { resource: string; action?: string }; Body: unknown };
type Req = FastifyRequest<Params>;
type Handler = (req: Req, reply: FastifyReply, r: ResourceRecord) => Promise<unknown>;

interface Api {
  app: FastifyInstance;
  deps: SelfServiceDeps;
  guard: PortalGuard;
  /** Wraps a handler: the field checks, the rate limits (by the login when `byLogin`), the Resource, any failure as its HTTP answer. */
  route(byLogin: boolean, handler: Handler): (req: Req, reply: FastifyReply) => Promise<unknown>;
}

const opts = { bodyLimit: BODY_LIMIT };
const secure = (req: Req) => req.protocol === 'https';
const signedOut = (reply: FastifyReply) =>
  reply
    .code(401)
    .send({ error: { message: 'sign in first (or again: the session ended)', code: 'signed-out', exitCode: 5 } });

export function registerSelfServiceApi(app: FastifyInstance, deps: SelfServiceDeps): void {
  const guard = new PortalGuard(deps.store, deps.limits, deps.now);
  const route: Api['route'] = (byLogin, handler) => async (req, reply) => {
    try {
      checkField('resource', req.params.resource);
      const login = byLogin ? (optionalField(req.body, 'login')?.trim() ?? null) : null;
      await guard.rateLimit(clientIp(req), req.params.resource, login);
      const r = await deps.store.resources.findByName(req.params.resource);
      return r ? await handler(req, reply, r) : unknownResource(reply, req.params.resource);
    } catch (e) {
      return sendPortalFailure(reply, e);
    }
  };
  const api: Api = { app, deps, guard, route };
  registerSignInRoutes(api);
  registerSessionRoutes(api);
}

/** signin/begin (what will be asked; mails the code) and signin (a counted try; sets the cookie). */
function registerSignInRoutes({ app, deps, guard, route }: Api): void {
  app.post<Params>(
    '/api/r/:resource/signin/begin',
    opts,
    route(true, async (req, _reply, r) =>
      beginSignIn(deps.store, deps.mailer, {
        resource: r.name,
        login: requiredField(req.body, 'login'),
        at: guard.now(),
        limits: guard.limits,
        pageUrl: deps.portalUrl ? `${deps.portalUrl()}/r/${encodeURIComponent(r.name)}` : undefined,
        onMailFailure: deps.onMailFailure,
      }),
    ),
  );

  app.post<Params>(
    '/api/r/:resource/signin',
    opts,
    route(true, async (req, reply, r) => {
      const b = req.body;
      const session = await signIn(deps.store, {
        resource: r.name,
        login: requiredField(b, 'login'),
        password: optionalField(b, 'password'),
        emailCode: optionalField(b, 'emailCode'),
        tokenCode: optionalField(b, 'tokenCode'),
        at: guard.now(),
      });
      const sid = await guard.start(req.headers.cookie, r, session.ids!.userId);
      reply.header('Set-Cookie', portalCookie(r, sid, secure(req)));
      return { ...(await session.overview()), sessionTag: sessionTag(sid) };
    }),
  );
}

/** signout, me, and the actions (bound to the session the page was loaded with). */
function registerSessionRoutes({ app, guard, route }: Api): void {
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
      return s
        ? { login: s.login, ...(await s.overview()), sessionTag: guard.tagOf(req.headers.cookie) }
        : signedOut(reply);
    }),
  );

  app.post<Params>(
    '/api/r/:resource/actions/:action',
    opts,
    route(false, async (req, reply, r) => {
      const s = await guard.current(req.headers.cookie, r, req.headers[SESSION_TAG_HEADER] ?? null);
      if (!s) return signedOut(reply);
      await guard.countAction(r, s.login);
      const result = await runAction(s, req.params.action ?? '', req.body, guard.now());
      if (req.params.action !== 'change-password') return result;
      // A new password, a new session id: a copy of the old cookie (a reason to change it) stops working.
      const sid = await guard.start(req.headers.cookie, r, s.ids!.userId);
      reply.header('Set-Cookie', portalCookie(r, sid, secure(req)));
      return { ...(result as object), sessionTag: sessionTag(sid) };
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
