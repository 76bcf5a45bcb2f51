/**
 * The portal's shared state in the store (migration 7), on SQLite and on
 * PostgreSQL: counters, buckets, sessions and emailed codes count every one of
 * many parallel calls once, from two connections to the same database too.
 */
import { describe, expect } from 'vitest';
import type { Store } from '../../src/store/types.js';
import { keyEnv, postgresBackend, sqliteBackend, useBackend, type Backend } from '../store/backends.js';

const backends: Backend[] = [sqliteBackend(), postgresBackend()];
const NOW = 1_800_000_000_000;

describe.each(backends)('portal state on $name', (backend) => {
  const test = useBackend(backend);

  async function twoConnections(): Promise<[Store, Store, number]> {
    const env = keyEnv();
    const a = await backend.fresh(env);
    // better-sqlite3 waits for a lock synchronously: a second connection in this process would block the one holding it.
    const b = backend.name === 'postgres' ? await backend.reopen(env) : a;
    const r = await a.resources.create({ name: 'vpn' });
    return [a, b, r.id];
  }

  test('150 parallel tries from two connections (PostgreSQL) count 150 and lock at the limit, once', async () => {
    const [a, b, rid] = await twoConnections();
    const tries = Array.from({ length: 150 }, (_, i) =>
      (i % 2 ? a : b).transaction((tx) =>
        tx.portal.countAttempt({ resourceId: rid, subject: 'signin:alice', limit: 5, lockMs: 60_000, nowMs: NOW }),
      ),
    );
    const counts = (await Promise.all(tries)).map((c) => c.attempts).sort((x, y) => x - y);
    expect(counts).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(await a.portal.attemptsOf(rid, 'signin:alice')).toEqual({
      attempts: 150,
      lockedUntilMs: NOW + 60_000,
      locks: 1,
    });
    // The lock runs out: the count starts again at 1.
    expect(
      await a.portal.countAttempt({
        resourceId: rid,
        subject: 'signin:alice',
        limit: 5,
        lockMs: 60_000,
        nowMs: NOW + 60_000,
      }),
    ).toEqual({ attempts: 1, lockedUntilMs: null, locks: 1 });
    await a.portal.clearAttempts(rid, 'signin:alice', NOW + 3_600_000);
    expect(await a.portal.attemptsOf(rid, 'signin:alice')).toEqual({ attempts: 0, lockedUntilMs: null, locks: 0 });
  });

  test('issue 21 (5): each lock in a row lasts twice as long, up to the longest; the login counter spans Resources', async () => {
    const [a, , rid] = await twoConnections();
    const count = (resourceId: number | null, nowMs: number) =>
      a.transaction((tx) =>
        tx.portal.countAttempt({ resourceId, subject: 'signin:x', limit: 2, lockMs: 1000, maxLockMs: 5000, nowMs }),
      );
    let now = NOW;
    const lengths: number[] = [];
    for (let lock = 0; lock < 5; lock++) {
      await count(rid, now);
      const c = await count(rid, now);
      lengths.push(c.lockedUntilMs! - now);
      now = c.lockedUntilMs!;
    }
    expect(lengths).toEqual([1000, 2000, 4000, 5000, 5000]);
    // The login's own counter has no Resource: the same subject counts apart from the Resource's.
    expect((await count(null, now)).attempts).toBe(1);
    expect(await a.portal.attemptsOf(null, 'signin:x')).toMatchObject({ attempts: 1, locks: 0 });
    // A success does not lift a lock in force (a parallel try set it); after it ran out it starts afresh.
    await count(null, now);
    await a.portal.clearAttempts(null, 'signin:x', now);
    expect(await a.portal.attemptsOf(null, 'signin:x')).toMatchObject({ attempts: 2, locks: 1 });
    await a.portal.clearAttempts(null, 'signin:x', now + 1000);
    expect(await a.portal.attemptsOf(null, 'signin:x')).toEqual({ attempts: 0, lockedUntilMs: null, locks: 0 });
  });

  test('rate buckets: parallel hits all counted; a new window starts afresh', async () => {
    const [a, b] = await twoConnections();
    const hits = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        (i % 2 ? a : b).transaction((tx) => tx.portal.hitRateBucket('ip:127.0.0.1', 60_000, NOW)),
      ),
    );
    expect(hits.map((h) => h.hits).sort((x, y) => x - y)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(await a.portal.hitRateBucket('ip:127.0.0.1', 60_000, NOW + 60_000)).toEqual({
      hits: 1,
      windowStartMs: NOW + 60_000,
    });
  });

  test('emailed codes: 100 parallel issues leave one live code; tries and use are counted once', async () => {
    const [a, b, rid] = await twoConnections();
    const u = await a.users.create({ login: 'bob', email: 'bob@example.org' });
    const issued = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? a : b).transaction((tx) =>
          tx.portal.issueEmailCode({
            userId: u.id,
            resourceId: rid,
            codeHash: `h${i}`,
            nowMs: NOW,
            expiresMs: NOW + 600_000,
            cooldownMs: 60_000,
          }),
        ),
      ),
    );
    expect(issued.filter(Boolean)).toHaveLength(1);
    const live = `h${issued.indexOf(true)}`;
    const tries = await Promise.all(
      Array.from({ length: 20 }, () => a.transaction((tx) => tx.portal.tryEmailCode(u.id, rid, NOW + 1, 5))),
    );
    expect(tries.filter((t) => t?.codeHash === live)).toHaveLength(5);
    // After the cool-down a new code replaces the old one, with fresh tries; it is used once.
    expect(
      await a.portal.issueEmailCode({
        userId: u.id,
        resourceId: rid,
        codeHash: 'new',
        nowMs: NOW + 60_000,
        expiresMs: NOW + 660_000,
        cooldownMs: 60_000,
      }),
    ).toBe(true);
    expect(await a.portal.tryEmailCode(u.id, rid, NOW + 60_001, 5)).toEqual({ codeHash: 'new' });
    const used = await Promise.all([
      a.portal.consumeEmailCode(u.id, rid, 'new'),
      b.portal.consumeEmailCode(u.id, rid, 'new'),
    ]);
    expect(used.filter(Boolean)).toHaveLength(1);
  });

  test('sessions: idle and absolute ends, one user ended but the kept one, prune', async () => {
    const [a, b, rid] = await twoConnections();
    const u = await a.users.create({ login: 'carol' });
    await a.portal.createSession({
      idHash: 's1',
      resourceId: rid,
      userId: u.id,
      nowMs: NOW,
      expiresMs: NOW + 3_600_000,
    });
    await a.portal.createSession({
      idHash: 's2',
      resourceId: rid,
      userId: u.id,
      nowMs: NOW,
      expiresMs: NOW + 3_600_000,
    });
    expect(await b.portal.touchSession('s1', rid, NOW + 1000, 900_000)).toEqual({ userId: u.id });
    expect(await b.portal.touchSession('s1', rid + 1, NOW + 1000, 900_000)).toBeNull();
    expect(await b.portal.touchSession('s2', rid, NOW + 900_001, 900_000)).toBeNull();
    expect(await b.portal.touchSession('s1', rid, NOW + 3_600_000, 10_000_000)).toBeNull();
    await a.portal.createSession({
      idHash: 's3',
      resourceId: rid,
      userId: u.id,
      nowMs: NOW,
      expiresMs: NOW + 3_600_000,
    });
    expect(await a.portal.endUserSessions(u.id, 's3')).toBe(2);
    expect(await a.portal.touchSession('s3', rid, NOW + 1, 900_000)).toEqual({ userId: u.id });
    await a.portal.prune(NOW + 3_600_000, { idleMs: 900_000, bucketMs: 60_000, staleBeforeMs: NOW });
    expect(await a.portal.touchSession('s3', rid, NOW + 2, 900_000)).toBeNull();
  });

  test('a token step is taken once however many ask at once', async () => {
    const [a, b] = await twoConnections();
    const t = await a.tokens.insert({
      serial: 'T1',
      kind: 'programmable',
      type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      counter: 0,
      state: 'in_stock',
    });
    const won = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).transaction((tx) => tx.portal.useTokenStep(t.id, 42))),
    );
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await a.tokens.get(t.id))!.lastUsedStep).toBe(42);
    expect(await a.portal.useTokenStep(t.id, 41)).toBe(false);
  });
});
