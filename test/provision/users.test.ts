import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { addToken, findToken } from '../../src/provision/tokens.js';
import { parseCsvRows } from '../../src/core/csv.js';
import { importUsers } from '../../src/provision/users-import.js';
import { addUser, setMembership } from '../../src/provision/users.js';
import { verifyPassword } from '../../src/core/password.js';
import type { Store } from '../../src/store/types.js';
import { base32, memoryStore, TEST_SEEDS } from './helpers-ss.js';

let store: Store;
let dir: string;
beforeEach(async () => {
  store = memoryStore();
  dir = mkdtempSync(join(tmpdir(), 'tokensmith-users-'));
  await createResource(store, { name: 'vpn' });
  await createResource(store, { name: 'wiki' });
  await addToken(store, { serial: 'S1', secret: base32(TEST_SEEDS.c1), resource: 'vpn' });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('users', () => {
  it('hashes the password, never stores or audits it, and refuses duplicates', async () => {
    const u = await addUser(store, { login: 'bob', password: 'pw-of-bob', resources: ['vpn'] });
    expect(u.passwordHash).toMatch(/^\$scrypt\$/);
    expect(await verifyPassword('pw-of-bob', u.passwordHash!)).toBe(true);
    expect(JSON.stringify(await store.audit.list())).not.toMatch(/pw-of-bob|scrypt/);
    await expect(addUser(store, { login: 'bob', resources: ['vpn'] })).rejects.toMatchObject({
      code: 'duplicate-user',
      exitCode: 4,
    });
    await expect(addUser(store, { login: 'x', resources: ['nosuch'] })).rejects.toMatchObject({ code: 'not-found' });
    await setMembership(store, 'bob', 'wiki', true);
    expect((await store.users.resourcesOf(u.id)).map((r) => r.name)).toEqual(['vpn', 'wiki']);
  });

  it('parses CSV with quotes, doubled quotes, CRLF and embedded newlines, keeping line numbers', () => {
    const rows = parseCsvRows('a,b\r\n"x, y","say ""hi"""\r\n\r\n"multi\nline",z\n');
    expect(rows.map(({ line, fields }) => ({ line, fields }))).toEqual([
      { line: 1, fields: ['a', 'b'] },
      { line: 2, fields: ['x, y', 'say "hi"'] },
      { line: 4, fields: ['multi\nline', 'z'] },
    ]);
    expect(() => parseCsvRows('a\n"open')).toThrow(/unterminated.*line 2/);
  });

  it('imports all or nothing and names every bad line', async () => {
    const csv = join(dir, 'users.csv');
    writeFileSync(
      csv,
      'login,email,phone,password,resources,token\nalice,alice@example.com,+41 79 000 00 00,pw-alice,vpn;wiki,S1\nbob,bob@nowhere,,,vpn,\ncarol,,,,vpn,\nalice,,,,vpn,\n',
    );
    const bad = await importUsers(store, csv);
    expect(bad.imported).toBe(0);
    expect(bad.errors.map((e) => e.where)).toEqual(['users.csv:3', 'users.csv:5']);
    expect(bad.errors[0]!.message).toMatch(/not an email/);
    expect(bad.errors[1]!.message).toMatch(/already appears on line 2/);
    expect(await store.users.list()).toHaveLength(0);
    expect((await findToken(store, 'S1')).state).toBe('in_stock');

    writeFileSync(
      csv,
      'login,email,phone,password,resources,token\nalice,alice@example.com,+41 79 000 00 00,pw-alice,vpn;wiki,S1\ncarol,,,,vpn,\n',
    );
    const good = await importUsers(store, csv);
    expect(good).toMatchObject({ imported: 2, assigned: 1, failed: 0, cannotSignIn: ['carol'] });
    expect((await findToken(store, 'S1')).state).toBe('assigned');
    const alice = (await store.users.findByLogin('alice'))!;
    expect(await verifyPassword('pw-alice', alice.passwordHash!)).toBe(true);
  });

  it('refuses an unknown column and a store-level conflict rolls back every line', async () => {
    const csv = join(dir, 'u.csv');
    writeFileSync(csv, 'login,shoe_size\nx,42\n');
    await expect(importUsers(store, csv)).rejects.toThrow(/u.csv:1: unknown column 'shoe_size'/);
    await setResourcePermissions(store, 'vpn', { allow: true, actions: 'enroll' });
    await addUser(store, { login: 'zed', resources: ['vpn'] });
    writeFileSync(csv, 'login,resources\nnew1,vpn\nzed,vpn\n');
    const r = await importUsers(store, csv);
    expect(r.errors).toEqual([
      { where: 'u.csv:3', message: "user 'zed' already exists (re-import with --on-existing skip or update)" },
    ]);
    expect(await store.users.findByLogin('new1')).toBeNull();
  });
});
