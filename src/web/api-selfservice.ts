/**
 * The self-service portal's JSON API at /api/r/<resource>/...: the portal
 * service of src/provision/selfservice.ts behind a session cookie. Every
 * action is checked against the Resource's rules by the service itself.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { UsageError } from '../core/errors.js';
import type { Mailer } from '../provision/mailer.js';
import type { PortalSession } from '../provision/selfservice.js';
import type { Store } from '../store/types.js';
import { cookieValue } from './pairing.js';

export const PORTAL_COOKIE = 'tokensmith_portal';
/** A portal session ends after this long without a request. */
const IDLE_MS = 15 * 60 * 1000;

interface Entry {
  session: PortalSession;
  seen: number;
}

type Params = { Params: { resource: string; action?: string }; Body: Record<string, unknown> | undefined };

function str(body: Record<string, unknown> | undefined, key: string): string {
  const v = body?.[key];
  if (typeof v !== 'string' || v.trim() === '') throw new UsageError(`'${key}' is missing`, 'missing-field');
  return v;
}

function opt(body: Record<string, unknown> | undefined, key: string): string | undefined {
  const v = body?.[key];
  return typeof v === 'string' && v !== '' ? v : undefined;
}

export function registerSelfServiceApi(app: FastifyInstance, deps: { store: Store; mailer: Mailer }): void {
  const sessions = new Map<string, Entry>();
  const key = (sid: string, resource: string) => `${sid}\u0000${resource}`;

  const current = (req: FastifyRequest<Params>): PortalSession | null => {
    const sid = cookieValue(req.headers.cookie, PORTAL_COOKIE);
    if (!sid) return null;
    const e = sessions.get(key(sid, req.params.resource));
    if (!e || Date.now() - e.seen > IDLE_MS) return null;
    e.seen = Date.now();
    return e.session;
  };

  const signedOut = (reply: FastifyReply) => reply.code(401).send({ error: { message: 'sign in first (or again: the session ended)', code: 'signed-out', exitCode: 5 } });

  app.post<Params>('/api/r/:resource/signin/begin', async (req) => {
    const { beginSignIn } = await import('../provision/selfservice.js');
    return beginSignIn(deps.store, deps.mailer, { resource: req.params.resource, login: str(req.body, 'login') });
  });

  app.post<Params>('/api/r/:resource/signin', async (req, reply) => {
    const { signIn } = await import('../provision/selfservice.js');
    const session = await signIn(deps.store, {
      resource: req.params.resource,
      login: str(req.body, 'login'),
      password: opt(req.body, 'password'),
      emailCode: opt(req.body, 'emailCode'),
      tokenCode: opt(req.body, 'tokenCode'),
    });
    const sid = cookieValue(req.headers.cookie, PORTAL_COOKIE) ?? randomBytes(24).toString('base64url');
    for (const [k, e] of sessions) if (Date.now() - e.seen > IDLE_MS) sessions.delete(k);
    sessions.set(key(sid, req.params.resource), { session, seen: Date.now() });
    reply.header('Set-Cookie', `${PORTAL_COOKIE}=${sid}; HttpOnly; SameSite=Strict; Path=/`);
    return session.overview();
  });

  app.post<Params>('/api/r/:resource/signout', async (req) => {
    const sid = cookieValue(req.headers.cookie, PORTAL_COOKIE);
    if (sid) sessions.delete(key(sid, req.params.resource));
    return { signedOut: true };
  });

  app.get<Params>('/api/r/:resource/me', async (req, reply) => {
    const s = current(req);
    return s ? { login: s.login, ...(await s.overview()) } : signedOut(reply);
  });

  app.post<Params>('/api/r/:resource/actions/:action', async (req, reply) => {
    const s = current(req);
    if (!s) return signedOut(reply);
    const b = req.body;
    const replace = (next: PortalSession) => {
      const sid = cookieValue(req.headers.cookie, PORTAL_COOKIE)!;
      sessions.set(key(sid, req.params.resource), { session: next, seen: Date.now() });
      return { login: next.login };
    };
    switch (req.params.action) {
      case 'enroll':
        return s.enroll(str(b, 'serial').trim(), str(b, 'code').trim());
      case 'assign-existing':
        return s.assignExisting(str(b, 'serial').trim());
      case 'unassign':
        return s.unassign();
      case 'reissue':
        return s.reissue();
      case 'synchronize':
        return s.synchronize([str(b, 'code1').trim(), str(b, 'code2').trim()]);
      case 'change-password':
        return replace(await s.changePassword(str(b, 'password')));
      case 'change-email':
        return replace(await s.changeEmail(str(b, 'email')));
      case 'change-phone':
        return replace(await s.changePhone(str(b, 'phone')));
      case 'change-name':
        return replace(await s.changeName(str(b, 'name')));
      case 'change-login':
        return replace(await s.changeLogin(str(b, 'login')));
      default:
        throw new UsageError(`unknown action '${req.params.action}'`, 'unknown-action');
    }
  });
}
