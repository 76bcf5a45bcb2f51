// @module-tag postgres
/**
 * Two `tokensmith portal` processes on one PostgreSQL database, as behind one
 * proxy: a session made on one works on the other (and ends on both), and a
 * burst of sign-in tries split between them locks after the Resource's limit.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, BIN, cliEnv, runCommand, tokensmith } from '../cli/helpers.js';
import { skipPgReason, startTestPostgres, type TestPostgres } from '../helpers/postgres.js';
import { call, sessionCookie, startPortal, type Answer, type PortalProcess } from './portal.js';

const PG_SKIP = skipPgReason();
const LOCK_AFTER = 5;
const locked = (a: Answer) => a.status === 403 && /locked/.test(a.json().error?.message ?? '');

describe.skipIf(PG_SKIP !== null)(
  `two portal processes on one PostgreSQL${PG_SKIP ? ` (skipped: ${PG_SKIP})` : ''}`,
  () => {
    let pg: TestPostgres;
    let a: PortalProcess;
    let b: PortalProcess;
    let vars: Record<string, string>;

    const cli = async (args: string[], input?: string) => {
      const r =
        input === undefined
          ? await tokensmith(args, vars)
          : await runCommand(process.execPath, [BIN, ...args], { env: cliEnv(vars), input });
      if (r.code !== 0) throw new Error(`tokensmith ${args.join(' ')}: ${r.stderr}`);
    };

    beforeAll(async () => {
      assertBuilt();
      pg = await startTestPostgres();
      vars = { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_DB: await pg.createDatabase() };
      await cli(['resource', 'create', 'corp', '--lock-after', String(LOCK_AFTER)]);
      await cli(['resource', 'allow', 'corp', '--actions', 'enroll', '--token-types', 'programmable']);
      await cli(['user', 'add', 'bob', '--password-stdin', '--resource', 'corp'], 'bob password 1\n');
      await cli(['user', 'add', 'carol', '--password-stdin', '--resource', 'corp'], 'carol password 1\n');
      [a, b] = await Promise.all([startPortal(cliEnv(vars)), startPortal(cliEnv(vars))]);
    }, 120_000);

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await pg?.stop();
    });

    it('a session made on one process works on the other; signing out on the other ends it on both', async () => {
      const signedIn = await call(`${a.origin}/api/r/corp/signin`, {
        body: { login: 'bob', password: 'bob password 1' },
      });
      expect(signedIn.status, signedIn.body).toBe(200);
      const cookie = sessionCookie(signedIn)!;
      expect(cookie).toBeDefined();
      const onB = await call(`${b.origin}/api/r/corp/me`, { headers: { cookie } });
      expect(onB.status, onB.body).toBe(200);
      expect(onB.json<{ login: string }>().login).toBe('bob');
      expect((await call(`${b.origin}/api/r/corp/signout`, { body: {}, headers: { cookie } })).status).toBe(200);
      expect((await call(`${a.origin}/api/r/corp/me`, { headers: { cookie } })).status).toBe(401);
      expect((await call(`${b.origin}/api/r/corp/me`, { headers: { cookie } })).status).toBe(401);
    }, 60_000);

    it(`28 tries at once split over both (27 wrong, 1 right) check at most ${LOCK_AFTER} and lock on both`, async () => {
      const tries = Array.from({ length: 28 }, (_, i) =>
        call(`${(i % 2 ? b : a).origin}/api/r/corp/signin`, {
          body: { login: 'carol', password: i === 14 ? 'carol password 1' : `wrong ${i}` },
        }),
      );
      const answers = await Promise.all(tries);
      expect(answers.filter((x) => !locked(x)).length, answers.map((x) => x.status).join(',')).toBeLessThanOrEqual(
        LOCK_AFTER,
      );
      expect(answers.filter((x) => x.status === 200).length).toBeLessThanOrEqual(1);
      for (const p of [a, b]) {
        const after = await call(`${p.origin}/api/r/corp/signin`, {
          body: { login: 'carol', password: 'carol password 1' },
        });
        expect(after.status).toBe(403);
        expect(after.json().error?.message).toMatch(new RegExp(`locked after ${LOCK_AFTER} failed attempts`));
      }
    }, 180_000);
  },
);
