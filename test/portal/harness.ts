/**
 * The portal API under test, as a hostile user meets it: registerSelfServiceApi
 * on a bare Fastify instance (no station around it), on SQLite and on
 * PostgreSQL, with two instances ("processes") sharing one database, a mail
 * box that keeps what was sent, and a clock the test moves.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import type { MailMessage, Mailer } from '../../src/provision/mailer.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { addToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import type { Store } from '../../src/store/types.js';
import { registerSelfServiceApi } from '../../src/web/api-selfservice.js';
import { base32, TEST_SEEDS } from '../provision/helpers-ss.js';
import { pageSessionHeader } from '../web/portal.js';
import { keyEnv, postgresBackend, sqliteBackend, type Backend } from '../store/backends.js';

export const PASSWORD = 'correct horse 1';
export const BOB_PASSWORD = 'battery staple 2';
/** High enough that only the limit a test is about can refuse. */
export const NO_RATE_LIMITS = { perUser: 1e6, perAddress: 1e6, overall: 1e6 };

export interface Answer {
  status: number;
  body: any;
  setCookie: string | undefined;
  headers: Record<string, unknown>;
}

export interface Portal {
  store: Store;
  /** Two API instances on one database, as two portal processes behind one proxy. */
  apps: [FastifyInstance, FastifyInstance];
  mails: MailMessage[];
  clock: { ms: number };
  post(path: string, body: unknown, opts?: { cookie?: string; app?: 0 | 1; ip?: string }): Promise<Answer>;
  get(path: string, opts?: { cookie?: string; app?: 0 | 1; ip?: string }): Promise<Answer>;
}

/** The session cookie a Set-Cookie header sets, as a Cookie header. */
export const cookieOf = (a: Answer) => a.setCookie?.split(';')[0];

function answer(res: { statusCode: number; body: string; headers: Record<string, unknown> }): Answer {
  let body: unknown = res.body;
  try {
    body = JSON.parse(res.body);
  } catch {
    // not JSON: kept as text
  }
  const sc = res.headers['set-cookie'];
  return {
    status: res.statusCode,
    body,
    setCookie: Array.isArray(sc) ? sc[0] : (sc as string | undefined),
    headers: res.headers,
  };
}

/**
 * Resources corp (lock after 5; enroll, assign-existing, change-password allowed; programmable tokens) and lab;
 * alice (password) and mallory (password) in corp, bob (password) in lab, erin (email only) in corp;
 * stock: P1, P2 in corp, P3 in lab.
 */
async function seed(store: Store): Promise<void> {
  await createResource(store, { name: 'corp', lockAfter: 5 });
  await setResourcePermissions(store, 'corp', {
    allow: true,
    actions: ['enroll', 'assign-existing', 'change-password'],
    tokenTypes: 'programmable',
  });
  await createResource(store, { name: 'lab', lockAfter: 5 });
  await setResourcePermissions(store, 'lab', {
    allow: true,
    actions: ['enroll', 'assign-existing'],
    tokenTypes: 'programmable',
  });
  await addUser(store, { login: 'alice', password: PASSWORD, resources: ['corp'] });
  await addUser(store, { login: 'mallory', password: PASSWORD, resources: ['corp'] });
  await addUser(store, { login: 'bob', password: BOB_PASSWORD, resources: ['lab'] });
  await addUser(store, { login: 'erin', email: 'erin@example.org', resources: ['corp'] });
  await addToken(store, { serial: 'P1', secret: base32(TEST_SEEDS.p1), kind: 'programmable', resource: 'corp' });
  await addToken(store, { serial: 'P2', secret: base32(TEST_SEEDS.p2), kind: 'programmable', resource: 'corp' });
  await addToken(store, { serial: 'P3', secret: base32(TEST_SEEDS.p3), kind: 'programmable', resource: 'lab' });
}

/** Runs `body` once per backend; `portal(limits)` gives a fresh, seeded portal on that backend. */
export function onBackends(
  title: string,
  body: (portal: (limits?: Record<string, number>) => Promise<Portal>) => void,
): void {
  const backends: Backend[] = [sqliteBackend(), postgresBackend()];
  describe.each(backends)(`${title} ($name)`, (backend) => {
    const apps: FastifyInstance[] = [];
    beforeAll(async () => {
      if (!backend.skip) await backend.setup();
    }, 60_000);
    afterAll(async () => {
      if (!backend.skip) await backend.teardown();
    });
    afterEach(async () => {
      for (const app of apps.splice(0)) await app.close();
      await backend.cleanup();
    });
    if (backend.skip) it.skip(`skipped: ${backend.skip}`, () => undefined);
    const portal = async (limits: Record<string, number> = NO_RATE_LIMITS): Promise<Portal> => {
      const env = keyEnv();
      const store = await backend.fresh(env);
      await seed(store);
      // A second SQLite connection in this process would wait for locks synchronously: both apps share one there.
      const second = backend.name === 'postgres' ? await backend.reopen(env) : store;
      const mails: MailMessage[] = [];
      const mailer: Mailer = { send: async (m) => (mails.push(m), { delivered: `memory:${mails.length}` }) };
      // Real time to start with, so that code computed here and code that reads its own clock agree.
      const clock = { ms: Date.now() };
      const now = () => new Date(clock.ms);
      const mount = (s: Store): FastifyInstance => {
        const app = Fastify({ logger: false });
        registerSelfServiceApi(app, { store: s, mailer, limits, now } as Parameters<typeof registerSelfServiceApi>[1]);
        apps.push(app);
        return app;
      };
      const made: [FastifyInstance, FastifyInstance] = [mount(store), mount(second)];
      const call = async (
        method: 'GET' | 'POST',
        url: string,
        body: unknown,
        o: { cookie?: string; app?: 0 | 1; ip?: string } = {},
      ) =>
        answer(
          await made[o.app ?? 0].inject({
            method,
            url,
            remoteAddress: o.ip ?? '127.0.0.1',
            headers: o.cookie ? { cookie: o.cookie, ...pageSessionHeader(url, o.cookie) } : {},
            ...(method === 'POST' ? { payload: (body ?? {}) as object } : {}),
          }),
        );
      return {
        store,
        apps: made,
        mails,
        clock,
        post: (u, b, o) => call('POST', u, b, o),
        get: (u, o) => call('GET', u, undefined, o),
      };
    };
    (backend.skip ? describe.skip : describe)('', () => body(portal));
  });
}

/** Signs in and returns the session cookie; fails the test when the sign-in is refused. */
export async function signedIn(
  p: Portal,
  resource: string,
  login: string,
  password: string,
  o: { app?: 0 | 1 } = {},
): Promise<string> {
  const a = await p.post(`/api/r/${resource}/signin`, { login, password }, o);
  if (a.status !== 200) throw new Error(`sign-in as ${login} refused: ${a.status} ${JSON.stringify(a.body)}`);
  return cookieOf(a)!;
}
