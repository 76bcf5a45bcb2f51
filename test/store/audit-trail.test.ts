/**
 * Issue 26 item 6 on both backends: audit rows by time and actor, and a
 * user's subject with the events of the tokens they held (only while they
 * held them); read page by page.
 */
import { describe, expect } from 'vitest';
import { assignToken } from '../../src/provision/assign.js';
import { auditTrail } from '../../src/provision/audit-trail.js';
import { changeTokenState } from '../../src/provision/lifecycle.js';
import { createResource } from '../../src/provision/resources.js';
import { addUser } from '../../src/provision/users.js';
import type { AuditRecord, Store } from '../../src/store/types.js';
import { postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';
import { baseToken } from './helpers.js';

async function collect(it: AsyncIterable<AuditRecord>): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const brief = (rows: AuditRecord[]) => rows.map((r) => `${r.action} ${r.subject}`);

async function day(store: Store): Promise<string> {
  await createResource(store, { name: 'vpn' });
  await addUser(store, { login: 'alice', email: 'alice@example.com', resources: ['vpn'] });
  await addUser(store, { login: 'bob', email: 'bob@example.com', resources: ['vpn'] });
  for (const serial of ['T1', 'T2']) await store.tokens.insert({ ...baseToken, serial, resourceId: 1 });
  await assignToken(store, { serial: 'T1', login: 'alice', resource: 'vpn' });
  await sleep(5);
  const noon = new Date().toISOString();
  await sleep(5);
  await store.audit.append({ action: 'token.resync', subject: 'token:T1', actor: 'helpdesk', details: {} });
  await store.audit.append({ action: 'token.enroll-failed', subject: 'token:T2', details: { user: 'alice' } });
  await changeTokenState(store, 'T1', 'lost');
  await changeTokenState(store, 'T1', 'revoke');
  await assignToken(store, { serial: 'T2', login: 'bob', resource: 'vpn' });
  await store.audit.append({ action: 'token.resync', subject: 'token:T2', details: {} });
  return noon;
}

const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('$name: audit list', (backend) => {
  const test = useBackend(backend);

  test("user:<login> gathers the user's rows and their tokens' rows while they held them", async () => {
    const store = await backend.fresh();
    const noon = await day(store);
    expect(brief(await collect(auditTrail(store, { subject: 'user:alice' })))).toEqual([
      'user.add user:alice',
      'token.assign token:T1',
      'token.resync token:T1',
      'token.enroll-failed token:T2',
      'token.lost token:T1',
      'token.revoke token:T1',
    ]);
    // A token given before --since still counts as held after it.
    expect(
      brief(await collect(auditTrail(store, { subject: 'user:alice', since: noon, action: 'token.resync' }))),
    ).toEqual(['token.resync token:T1']);
    expect(brief(await collect(auditTrail(store, { subject: 'user:bob' })))).toEqual([
      'user.add user:bob',
      'token.assign token:T2',
      'token.resync token:T2',
    ]);
    expect(brief(await collect(auditTrail(store, { subject: 'user:alice', limit: 2 })))).toEqual([
      'token.lost token:T1',
      'token.revoke token:T1',
    ]);
  });

  test('--since, --until and --actor select in SQL; a plain subject and --limit as before', async () => {
    const store = await backend.fresh();
    const noon = await day(store);
    const all = await collect(auditTrail(store, {}));
    expect(all.length).toBe(10);
    const before = await collect(auditTrail(store, { until: noon }));
    const after = await collect(auditTrail(store, { since: noon }));
    expect(before.length + after.length).toBe(10);
    expect(before.every((r) => r.at < noon) && after.every((r) => r.at >= noon)).toBe(true);
    expect(brief(await collect(auditTrail(store, { actor: 'helpdesk' })))).toEqual(['token.resync token:T1']);
    expect(await collect(auditTrail(store, { since: '2999-01-01' }))).toEqual([]);
    expect((await collect(auditTrail(store, { subject: 'token:T1', limit: 2 }))).map((r) => r.action)).toEqual([
      'token.lost',
      'token.revoke',
    ]);
    expect(() => auditTrail(store, { since: 'yesterday' })).toThrow(/--since: 'yesterday' is not a date/);
  });

  test('reads a long log page by page, the same rows as the one-statement list', async () => {
    const store = await backend.fresh();
    await store.transaction(async (tx) => {
      for (let i = 0; i < 2100; i++) await tx.audit.append({ action: i % 2 ? 'x.odd' : 'x.even', subject: `n:${i}` });
    });
    const paged = await collect(store.audit.iterate({}));
    expect(paged).toEqual(await store.audit.list());
    expect((await collect(store.audit.iterate({ action: 'x.odd', limit: 1001 }))).length).toBe(1001);
    expect(await collect(store.audit.iterate({ action: 'x.odd', limit: 1001 }))).toEqual(
      await store.audit.list({ action: 'x.odd', limit: 1001 }),
    );
  });
});
