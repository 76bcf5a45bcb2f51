/**
 * Issue 26 item 5 on both backends: edit a user, reset a forgotten portal
 * password (sessions end), remove a user (tokens revoked through the life
 * cycle, not deleted; sessions and memberships go), and re-import the HR CSV
 * with --on-existing skip|update.
 */
import { describe, expect } from 'vitest';
import { assignToken } from '../../src/provision/assign.js';
import { changeTokenState } from '../../src/provision/lifecycle.js';
import { createResource } from '../../src/provision/resources.js';
import { findToken } from '../../src/provision/tokens.js';
import { editUser, removeUser, resetPassword } from '../../src/provision/users-admin.js';
import { importUsers } from '../../src/provision/users-import.js';
import { addUser } from '../../src/provision/users.js';
import type { Store } from '../../src/store/types.js';
import { postgresBackend, sqliteBackend, useBackend, type Backend } from './backends.js';
import { baseToken } from './helpers.js';

const HOUR = 3_600_000;

async function setup(store: Store): Promise<number> {
  await createResource(store, { name: 'vpn' });
  await createResource(store, { name: 'wiki' });
  const alice = await addUser(store, {
    login: 'alice',
    email: 'alice@example.com',
    phone: '+41 79 000 00 00',
    password: 'old-password',
    resources: ['vpn', 'wiki'],
  });
  for (const serial of ['T1', 'T2']) await store.tokens.insert({ ...baseToken, serial, resourceId: 1 });
  await assignToken(store, { serial: 'T1', login: 'alice', resource: 'vpn' });
  await assignToken(store, { serial: 'T2', login: 'alice', resource: 'wiki' });
  await changeTokenState(store, 'T2', 'lost');
  const now = Date.now();
  await store.portal.createSession({
    idHash: 'h1',
    resourceId: 1,
    userId: alice.id,
    nowMs: now,
    expiresMs: now + HOUR,
  });
  return now;
}

const backends: Backend[] = [sqliteBackend(), postgresBackend()];

describe.each(backends)('$name: the admin and a user', (backend) => {
  const test = useBackend(backend);

  test('user edit changes email, clears the phone, and audits from and to', async () => {
    const store = await backend.fresh();
    await setup(store);
    const u = await editUser(store, 'alice', { email: 'alice.smith@example.com', phone: '' });
    expect(u).toMatchObject({ email: 'alice.smith@example.com', phone: null, name: null });
    const row = (await store.audit.list({ action: 'user.edit' }))[0]!;
    expect(row.details).toEqual({
      changes: {
        email: { from: 'alice@example.com', to: 'alice.smith@example.com' },
        phone: { from: '+41 79 000 00 00', to: null },
      },
    });
    await expect(editUser(store, 'alice', { email: 'not-an-email' })).rejects.toMatchObject({ code: 'bad-email' });
    await expect(editUser(store, 'nobody', { name: 'X' })).rejects.toMatchObject({ exitCode: 4 });
  });

  test('user reset-password sets a new hash and ends every session of the user', async () => {
    const store = await backend.fresh();
    const now = await setup(store);
    const before = (await store.users.findByLogin('alice'))!.passwordHash;
    const r = await resetPassword(store, 'alice', 'new-password-123');
    expect(r.sessionsEnded).toBe(1);
    expect(r.user.passwordHash).not.toBe(before);
    expect(await store.portal.touchSession('h1', 1, now + 1000, HOUR)).toBeNull();
    const row = (await store.audit.list({ action: 'user.reset-password' }))[0]!;
    expect(row.details).toEqual({ hasPassword: true, sessionsEnded: 1 });
    expect(JSON.stringify(row)).not.toContain('new-password-123');
    const cleared = await resetPassword(store, 'alice', null);
    expect(cleared.user.passwordHash).toBeNull();
  });

  test('user remove revokes each token (kept in the store), ends the sessions and deletes the user', async () => {
    const store = await backend.fresh();
    const now = await setup(store);
    const r = await removeUser(store, 'alice');
    expect(r).toEqual({
      login: 'alice',
      resources: ['vpn', 'wiki'],
      revoked: [
        { serial: 'T1', resource: 'vpn', from: 'assigned' },
        { serial: 'T2', resource: 'wiki', from: 'lost' },
      ],
    });
    for (const serial of ['T1', 'T2']) {
      const t = await findToken(store, serial);
      expect(t.state).toBe('revoked');
      expect(await store.assignments.byToken(t.id)).toBeNull();
    }
    expect(await store.users.findByLogin('alice')).toBeNull();
    expect(await store.portal.touchSession('h1', 1, now + 1000, HOUR)).toBeNull();
    expect((await store.audit.list({ subject: 'user:alice', action: 'user.remove' }))[0]!.details).toEqual({
      resources: ['vpn', 'wiki'],
      revoked: ['T1', 'T2'],
    });
    expect(await store.audit.verify()).toMatchObject({ ok: true });
    // The login can be given again.
    await addUser(store, { login: 'alice', email: 'alice@example.com', resources: ['vpn'] });
  });

  test('user import --on-existing: fail names the option, skip adds only the new hires, update changes the rest', async () => {
    const store = await backend.fresh();
    await setup(store);
    const csv = 'login,email,resources\nalice,alice@new.example.com,vpn;wiki\nbob,bob@example.com,vpn\n';
    const failed = await importUsers(store, 'hr.csv', { text: csv });
    expect(failed.errors).toEqual([
      { where: 'hr.csv:2', message: "user 'alice' already exists (re-import with --on-existing skip or update)" },
    ]);
    expect(await store.users.findByLogin('bob')).toBeNull();
    const skipped = await importUsers(store, 'hr.csv', { text: csv, onExisting: 'skip' });
    expect(skipped).toMatchObject({ imported: 1, skipped: 1, updated: 0, errors: [] });
    expect((await store.users.findByLogin('alice'))!.email).toBe('alice@example.com');
    const csv2 =
      'login,name,email,resources\nalice,Alice Smith,alice@new.example.com,vpn\ncarol,,carol@example.com,wiki\n';
    const updated = await importUsers(store, 'hr2.csv', { text: csv2, onExisting: 'update' });
    expect(updated).toMatchObject({ imported: 1, skipped: 0, updated: 1, errors: [] });
    const alice = (await store.users.findByLogin('alice'))!;
    expect(alice).toMatchObject({ name: 'Alice Smith', email: 'alice@new.example.com' });
    expect(alice.passwordHash).not.toBeNull(); // an empty column leaves the field
  });
});
