import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { auditHash, GENESIS_HASH, verifyAuditChain, type StoredAuditRow } from '../../src/store/audit-chain.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { TempStores } from './helpers.js';

const temp = new TempStores();
let store: SqliteStore;

beforeEach(async () => {
  store = temp.open(join(temp.dir(), 't.db'));
  for (let i = 1; i <= 5; i++)
    await store.audit.append({ action: 'token.add', subject: `token:S${i}`, details: { n: i } });
});
afterEach(() => temp.cleanup());

const rows = () => store.db.prepare('SELECT * FROM audit ORDER BY seq').all() as StoredAuditRow[];
const row = (seq: number) => store.db.prepare('SELECT * FROM audit WHERE seq = ?').get(seq) as StoredAuditRow;
const hashOf = (r: StoredAuditRow) =>
  auditHash({
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject: r.subject,
    detailsJson: r.details,
    prevHash: r.prev_hash,
  });

describe('audit append', () => {
  it('chains each row to the one before, from the genesis hash, and keeps the head in meta', async () => {
    const all = rows();
    expect(all.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all[0]!.prev_hash).toBe(GENESIS_HASH);
    for (let i = 1; i < all.length; i++) expect(all[i]!.prev_hash).toBe(all[i - 1]!.hash);
    for (const r of all) expect(r.hash).toBe(hashOf(r));
    expect(await store.meta.get('audit_head')).toBe(`5:${all[4]!.hash}`);
  });

  it('records the operator as actor unless the entry names one', async () => {
    expect(row(1).actor).toBe('test');
    const r = await store.audit.append({ action: 'x', subject: 'y', actor: 'alice' });
    expect(r.actor).toBe('alice');
  });

  it('lists oldest first, filtered and limited to the last n', async () => {
    await store.audit.append({ action: 'resource.create', subject: 'resource:Staff' });
    expect((await store.audit.list()).map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect((await store.audit.list({ limit: 2 })).map((r) => r.seq)).toEqual([5, 6]);
    expect((await store.audit.list({ action: 'resource.create' })).map((r) => r.subject)).toEqual(['resource:Staff']);
    expect((await store.audit.list({ subject: 'token:S3' }))[0]!.details).toEqual({ n: 3 });
  });

  it('rolls back with the transaction: no row, head unchanged', async () => {
    const head = await store.meta.get('audit_head');
    await expect(
      store.transaction(async (tx) => {
        await tx.audit.append({ action: 'token.add', subject: 'token:ghost' });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(rows()).toHaveLength(5);
    expect(await store.meta.get('audit_head')).toBe(head);
    expect((await store.audit.verify()).ok).toBe(true);
  });
});

describe('audit verify', () => {
  it('passes on an untouched database', async () => {
    expect(await store.audit.verify()).toEqual({ ok: true, rows: 5 });
  });

  it('passes on an empty log', async () => {
    const empty = temp.open(join(temp.dir(), 'e.db'));
    expect(await empty.audit.verify()).toEqual({ ok: true, rows: 0 });
  });

  it.each(['at', 'actor', 'action', 'subject', 'details'])('names row 3 when its %s was edited', async (col) => {
    store.db.prepare(`UPDATE audit SET ${col} = ? WHERE seq = 3`).run(col === 'details' ? '{"n":33}' : 'edited');
    const v = await store.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad?.seq).toBe(3);
    expect(v.firstBad?.problem).toMatch(/row 3 was edited/);
  });

  it('an edit with a recomputed hash is caught at the next row', async () => {
    const r = row(3);
    const edited = { ...r, subject: 'token:forged' };
    store.db.prepare('UPDATE audit SET subject = ?, hash = ? WHERE seq = 3').run(edited.subject, hashOf(edited));
    const v = await store.audit.verify();
    expect(v.firstBad?.seq).toBe(4);
    expect(v.firstBad?.problem).toMatch(/row 4 does not follow row 3/);
  });

  it('names row 3 when it was deleted from the middle', async () => {
    store.db.prepare('DELETE FROM audit WHERE seq = 3').run();
    const v = await store.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad).toEqual({ seq: 3, problem: 'row 3 is missing (deleted); the next row is 4' });
  });

  it('names row 1 when the first row was deleted', async () => {
    store.db.prepare('DELETE FROM audit WHERE seq = 1').run();
    expect((await store.audit.verify()).firstBad?.seq).toBe(1);
  });

  it('names row 5 when the last row was deleted (the head in meta remembers it)', async () => {
    store.db.prepare('DELETE FROM audit WHERE seq = 5').run();
    const v = await store.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad?.seq).toBe(5);
    expect(v.firstBad?.problem).toMatch(/missing from the end/);
  });

  it('names rows 4.. when the last two rows were deleted', async () => {
    store.db.prepare('DELETE FROM audit WHERE seq >= 4').run();
    expect((await store.audit.verify()).firstBad).toEqual({
      seq: 4,
      problem: 'rows 4 to 5 are missing from the end (deleted)',
    });
  });

  it('names row 2 when rows 2 and 3 were swapped (seq numbers exchanged)', async () => {
    store.db.exec(
      'UPDATE audit SET seq = -2 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 3; UPDATE audit SET seq = 3 WHERE seq = -2;',
    );
    expect(row(2).subject).toBe('token:S3');
    const v = await store.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad?.seq).toBe(2);
    expect(v.firstBad?.problem).toMatch(/row 2 does not follow row 1/);
  });

  it('names row 2 when the contents of rows 2 and 4 were swapped (seq kept)', async () => {
    const [r2, r4] = [row(2), row(4)];
    const put = store.db.prepare(
      'UPDATE audit SET at = ?, actor = ?, action = ?, subject = ?, details = ?, prev_hash = ?, hash = ? WHERE seq = ?',
    );
    put.run(r4.at, r4.actor, r4.action, r4.subject, r4.details, r4.prev_hash, r4.hash, 2);
    put.run(r2.at, r2.actor, r2.action, r2.subject, r2.details, r2.prev_hash, r2.hash, 4);
    expect((await store.audit.verify()).firstBad?.seq).toBe(2);
  });

  it('an inserted row with a valid hash is caught at the row after it', async () => {
    // Make room after row 2 and insert a forged row 3 that links to row 2 correctly.
    store.db.exec('UPDATE audit SET seq = -seq WHERE seq >= 3; UPDATE audit SET seq = -seq + 1 WHERE seq < 0;');
    const forged = {
      seq: 3,
      at: row(2).at,
      actor: 'mallory',
      action: 'token.add',
      subject: 'token:X',
      details: '{}',
      prev_hash: row(2).hash,
      hash: '',
    };
    forged.hash = hashOf(forged);
    store.db
      .prepare(
        'INSERT INTO audit (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        forged.seq,
        forged.at,
        forged.actor,
        forged.action,
        forged.subject,
        forged.details,
        forged.prev_hash,
        forged.hash,
      );
    const v = await store.audit.verify();
    expect(v.ok).toBe(false);
    expect(v.firstBad?.seq).toBe(4);
    expect(v.firstBad?.problem).toMatch(/row 4 does not follow row 3/);
  });

  it('an inserted row with a made-up hash is caught at the row itself', async () => {
    store.db.exec('UPDATE audit SET seq = -seq WHERE seq >= 3; UPDATE audit SET seq = -seq + 1 WHERE seq < 0;');
    store.db
      .prepare(
        "INSERT INTO audit (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (3, 'now', 'mallory', 'x', 'y', '{}', ?, ?)",
      )
      .run(row(2).hash, 'f'.repeat(64));
    expect((await store.audit.verify()).firstBad?.seq).toBe(3);
  });

  it('a row appended outside tokensmith (head not moved) is named', async () => {
    const last = row(5);
    const extra = {
      seq: 6,
      at: last.at,
      actor: 'mallory',
      action: 'x',
      subject: 'y',
      details: '{}',
      prev_hash: last.hash,
      hash: '',
    };
    extra.hash = hashOf(extra);
    store.db
      .prepare(
        'INSERT INTO audit (seq, at, actor, action, subject, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(extra.seq, extra.at, extra.actor, extra.action, extra.subject, extra.details, extra.prev_hash, extra.hash);
    const v = await store.audit.verify();
    expect(v.firstBad?.seq).toBe(6);
    expect(v.firstBad?.problem).toMatch(/added outside tokensmith/);
  });

  it('a missing or edited head is reported', async () => {
    store.db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(`5:${'0'.repeat(64)}`);
    expect((await store.audit.verify()).firstBad?.seq).toBe(5);
    store.db.prepare("DELETE FROM meta WHERE key = 'audit_head'").run();
    expect((await store.audit.verify()).firstBad).toEqual({
      seq: 1,
      problem: 'the audit head record is missing from meta',
    });
  });

  it('catches a tail cut off with the head moved back too: the MACed anchor still counts 5 rows', async () => {
    // Whoever can write both rows and head is not caught by the chain alone; the anchor needs the master key.
    const r4 = row(4);
    store.db.prepare('DELETE FROM audit WHERE seq = 5').run();
    store.db.prepare("UPDATE meta SET value = ? WHERE key = 'audit_head'").run(`4:${r4.hash}`);
    expect((await store.audit.verify()).firstBad).toEqual({
      seq: 5,
      problem: 'rows 5 to 5 are missing from the end (deleted)',
    });
  });
});

describe('auditHash', () => {
  it('covers every field', () => {
    const base = { seq: 1, at: 't', actor: 'a', action: 'b', subject: 'c', detailsJson: '{}', prevHash: GENESIS_HASH };
    const h = auditHash(base);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    for (const k of Object.keys(base) as (keyof typeof base)[]) {
      const changed = { ...base, [k]: k === 'seq' ? 2 : `${base[k]}x` };
      expect(auditHash(changed), k).not.toBe(h);
    }
  });

  it('is not fooled by moving text between fields', () => {
    const a = { seq: 1, at: 't', actor: 'ab', action: 'c', subject: 'd', detailsJson: '{}', prevHash: GENESIS_HASH };
    expect(auditHash(a)).not.toBe(auditHash({ ...a, actor: 'a', action: 'bc' }));
  });

  it('verifyAuditChain works on plain rows without a store', () => {
    expect(verifyAuditChain([], null)).toEqual({ ok: true, rows: 0 });
    const r1 = {
      seq: 1,
      at: 't',
      actor: 'a',
      action: 'b',
      subject: 'c',
      details: '{}',
      prev_hash: GENESIS_HASH,
      hash: '',
    };
    r1.hash = hashOf(r1);
    expect(verifyAuditChain([r1], { seq: 1, hash: r1.hash })).toEqual({ ok: true, rows: 1 });
    expect(verifyAuditChain([r1], null).ok).toBe(false);
  });
});
