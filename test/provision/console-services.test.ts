/**
 * The services behind the station console: a Resource's Save (exact rules
 * through allow and deny, limits through `resource set`), and the reports
 * (counts, assigned but never enrolled, drift from audit rows, CSV).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assignToken } from '../../src/provision/assign.js';
import { resyncToken } from '../../src/provision/lifecycle.js';
import { assignedNotEnrolled, driftReport, observedDrift, tokenCounts, toCsv } from '../../src/provision/reports.js';
import { saveResourceRules, setResourceLimits } from '../../src/provision/resource-settings.js';
import { createResource, setResourcePermissions } from '../../src/provision/resources.js';
import { addToken } from '../../src/provision/tokens.js';
import { addUser } from '../../src/provision/users.js';
import type { AuditRecord, Store, TokenRecord } from '../../src/store/types.js';
import { base32, memoryStore, TEST_SEEDS, totp } from './helpers-ss.js';

let store: Store;
beforeEach(async () => {
  store = memoryStore();
  await createResource(store, { name: 'vpn' });
});
afterEach(async () => {
  await store.close();
});

describe('saveResourceRules and setResourceLimits', () => {
  it('brings a Resource to exactly the rules given: allow rows for what was switched on, deny rows for what was off', async () => {
    await setResourcePermissions(store, 'vpn', { allow: true, actions: ['unassign', 'change-name'] });
    const r = await saveResourceRules(store, 'vpn', {
      actions: ['enroll', 'unassign'],
      tokenTypes: ['classic'],
      url: 'https://sso.example.com/vpn',
      window: 3,
    });
    expect(r.resource).toMatchObject({
      actions: ['enroll', 'unassign'],
      tokenTypes: ['classic'],
      url: 'https://sso.example.com/vpn',
      window: 3,
      lockAfter: 5,
    });
    expect(r.changes).toEqual([
      'allowed enroll',
      'token types allowed: classic',
      'denied change-name',
      'url: none → https://sso.example.com/vpn',
      'window: 2 → 3',
    ]);
    const rows = await store.audit.list({ subject: 'resource:vpn' });
    expect(rows.map((x) => x.action)).toEqual([
      'resource.create',
      'resource.allow',
      'resource.allow',
      'resource.deny',
      'resource.update',
    ]);
    expect(rows.at(-1)!.details).toEqual({
      changed: { url: { from: null, to: 'https://sso.example.com/vpn' }, window: { from: 2, to: 3 } },
    });
    // The same rules again change nothing and write nothing.
    const again = await saveResourceRules(store, 'vpn', {
      actions: ['unassign', 'enroll'],
      tokenTypes: ['classic'],
      url: 'https://sso.example.com/vpn',
      window: 3,
    });
    expect(again.changes).toEqual([]);
    expect(await store.audit.list({ subject: 'resource:vpn' })).toHaveLength(5);
  });

  it('refuses an unknown action or a limit out of range before it changes anything', async () => {
    await expect(saveResourceRules(store, 'vpn', { actions: ['enroll', 'fly'], tokenTypes: [] })).rejects.toMatchObject(
      {
        code: 'bad-action',
        exitCode: 2,
      },
    );
    await expect(
      saveResourceRules(store, 'vpn', { actions: ['enroll'], tokenTypes: [], lockAfter: 0 }),
    ).rejects.toThrow(/--lock-after must be a whole number from 1 to 100/);
    expect((await store.resources.findByName('vpn'))!.actions).toEqual([]);
    await expect(setResourceLimits(store, 'vpn', { url: 'ftp://x' })).rejects.toThrow(/not an http\(s\) address/);
    await expect(setResourceLimits(store, 'vpn', {})).rejects.toThrow(/name something to set/);
  });

  it('an empty address clears it', async () => {
    await setResourceLimits(store, 'vpn', { url: 'https://a.example/' });
    const { resource, changed } = await setResourceLimits(store, 'vpn', { url: '' });
    expect(resource.url).toBeNull();
    expect(changed).toEqual({ url: { from: 'https://a.example/', to: null } });
  });
});

describe('reports', () => {
  beforeEach(async () => {
    await addUser(store, { login: 'alice', email: 'a@example.com', resources: ['vpn'] });
    await addToken(store, { serial: 'C1', secret: base32(TEST_SEEDS.c1), model: 'c200', resource: 'vpn' });
    await addToken(store, { serial: 'C2', secret: base32(TEST_SEEDS.p1), model: 'c200' });
    await addToken(store, { serial: 'P3', secret: base32(TEST_SEEDS.p3), kind: 'programmable' });
  });

  it('counts tokens by state, model and Resource, and lists assigned tokens never enrolled with their age', async () => {
    await assignToken(store, { serial: 'C1', login: 'alice', resource: 'vpn' });
    expect(await tokenCounts(store)).toEqual({
      byState: [
        { key: 'in_stock', count: 1 },
        { key: 'assigned', count: 1 },
        { key: 'programmed', count: 1 },
      ].sort((a, b) => b.count - a.count || a.key.localeCompare(b.key)),
      byModel: [
        { key: 'c200', count: 2 },
        { key: '(no model)', count: 1 },
      ],
      byResource: [
        { key: '(no Resource)', count: 2 },
        { key: 'vpn', count: 1 },
      ],
    });
    const later = new Date(Date.now() + 3.5 * 86_400_000);
    expect(await assignedNotEnrolled(store, later)).toEqual([
      { serial: 'C1', user: 'alice', resource: 'vpn', assignedAt: expect.any(String), ageDays: 3 },
    ]);
  });

  it("drift: a resync's drift in seconds; a sync's offset before it set the clock; a failed verify observes none", async () => {
    await setResourcePermissions(store, 'vpn', { allow: true, actions: 'synchronize' });
    const at = new Date();
    await resyncToken(store, 'C1', [totp(TEST_SEEDS.c1, at, -2), totp(TEST_SEEDS.c1, at, -1)], { at });
    const resync = (await store.audit.list({ action: 'token.resync' }))[0]!;
    expect(resync.details).toMatchObject({ driftSteps: -1, driftSeconds: -30 });
    await store.audit.append({
      action: 'token.sync',
      subject: 'token:P3',
      details: { model: 'token2-card', offsetBefore: -95, offsetAfter: 0 },
    });
    await store.audit.append({ action: 'token.verify', subject: 'token:C2', details: { ok: false, driftSteps: null } });
    const report = await driftReport(store);
    expect(report.tokens).toEqual(
      [
        {
          serial: 'P3',
          model: 'token2-card',
          driftSeconds: -95,
          seenBy: 'sync',
          at: expect.any(String),
          observations: 1,
          correctedTo: 0,
        },
        {
          serial: 'C1',
          model: 'c200',
          driftSeconds: -30,
          seenBy: 'resync',
          at: expect.any(String),
          observations: 1,
          correctedTo: null,
        },
      ].sort((a, b) => a.model.localeCompare(b.model)),
    );
    expect(report.models).toEqual(
      expect.arrayContaining([{ model: 'c200', tokens: 1, meanSeconds: -30, minSeconds: -30, maxSeconds: -30 }]),
    );
  });

  it('observedDrift reads older rows by steps times the period, and the verify offset in seconds first', () => {
    const token = { type: 'totp', period: 60 } as TokenRecord;
    const row = (action: string, details: Record<string, unknown>) => ({ action, details }) as AuditRecord;
    expect(observedDrift(row('token.enroll', { driftSteps: 2 }), token)).toBe(120);
    expect(observedDrift(row('token.verify', { ok: true, driftSteps: 1, tokenClockOffset: 70 }), token)).toBe(70);
    expect(observedDrift(row('token.verify', { ok: true, driftSteps: -1 }), token)).toBe(-60);
    expect(observedDrift(row('token.resync', { counter: 7 }), { type: 'hotp', period: 30 } as TokenRecord)).toBeNull();
  });

  it('CSV: quoted where needed, and a cell that a spreadsheet would run as a formula is defused', () => {
    expect(toCsv([{ a: 'x,y', b: '=SUM(A1)', c: -30, d: { k: 1 } }])).toBe(
      'a,b,c,d\r\n"x,y",\'=SUM(A1),-30,"{""k"":1}"\r\n',
    );
  });
});
