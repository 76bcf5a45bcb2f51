import { describe, expect, it } from 'vitest';
import { runMigrations, runMigrationsSync, type MigrationHost } from '../../src/store/core/migrate.js';
import { Params, type SqlText } from '../../src/store/core/dialect.js';
import { assignmentWhere, tokenPatchColumns, tokenWhere } from '../../src/store/core/filters.js';
import { auditListQuery, parseAuditHead } from '../../src/store/core/audit-rows.js';
import { dollarNumbers, questionMarks } from '../../src/store/core/inventory.js';

type Step = { version: number; fail?: boolean };

/** A host that records what the runner asked of it; `sync` returns plain values, else promises. */
function recordingHost(applied: number[], mode: 'sync' | 'async') {
  const calls: string[] = [];
  const done = new Set(applied);
  const answer = <T>(v: T) => (mode === 'sync' ? v : Promise.resolve(v));
  const host = {
    applied: () => answer(new Set(done)),
    begin: () => answer(void calls.push('begin')),
    apply: (m: Step) => {
      calls.push(`apply ${m.version}`);
      if (m.fail) throw new Error(`step ${m.version} failed`);
      done.add(m.version);
      return answer(true);
    },
    commit: () => answer(void calls.push('commit')),
    rollback: () => answer(void calls.push('rollback')),
  };
  return { host, calls };
}

const sqlite: SqlText = {
  ph: questionMarks,
  byteOrder: '',
  inList: (c, p) => `${c} IN (SELECT value FROM json_each(${p}))`,
  listValue: (v) => JSON.stringify(v),
  bool: (v) => (v ? 1 : 0),
};
const pg: SqlText = {
  ph: dollarNumbers,
  byteOrder: ' COLLATE "C"',
  inList: (c, p) => `${c} = ANY(${p}::text[])`,
  listValue: (v) => v,
  bool: Boolean,
};

describe('the one migration runner', () => {
  for (const mode of ['sync', 'async'] as const) {
    it(`${mode}: applies the missing steps in version order, in one begin/commit`, async () => {
      const { host, calls } = recordingHost([1], mode);
      const list = [{ version: 3 }, { version: 1 }, { version: 2 }];
      const done =
        mode === 'sync'
          ? runMigrationsSync(list, host as MigrationHost<Step, 'sync'>)
          : await runMigrations(list, host);
      expect(done).toEqual([2, 3]);
      expect(calls).toEqual(['begin', 'apply 2', 'apply 3', 'commit']);
    });

    it(`${mode}: an up-to-date database is only read`, async () => {
      const { host, calls } = recordingHost([1, 2], mode);
      const list = [{ version: 1 }, { version: 2 }];
      expect(
        mode === 'sync'
          ? runMigrationsSync(list, host as MigrationHost<Step, 'sync'>)
          : await runMigrations(list, host),
      ).toEqual([]);
      expect(calls).toEqual([]);
    });

    it(`${mode}: a failing step rolls back and the error reaches the caller`, async () => {
      const { host, calls } = recordingHost([], mode);
      const list = [{ version: 1 }, { version: 2, fail: true }];
      const run = () =>
        mode === 'sync' ? runMigrationsSync(list, host as MigrationHost<Step, 'sync'>) : runMigrations(list, host);
      if (mode === 'sync') expect(run).toThrow('step 2 failed');
      else await expect(run()).rejects.toThrow('step 2 failed');
      expect(calls).toEqual(['begin', 'apply 1', 'apply 2', 'rollback']);
    });

    it(`${mode}: a database from a newer tokensmith is refused before anything is applied`, async () => {
      const { host, calls } = recordingHost([1, 7], mode);
      const list = [{ version: 1 }, { version: 2 }];
      const run = () =>
        mode === 'sync' ? runMigrationsSync(list, host as MigrationHost<Step, 'sync'>) : runMigrations(list, host);
      if (mode === 'sync') expect(run).toThrow(expect.objectContaining({ code: 'schema-too-new' }));
      else await expect(run()).rejects.toMatchObject({ code: 'schema-too-new' });
      expect(calls).toEqual([]);
    });
  }
});

describe('shared filters in both dialects', () => {
  it('token filters number their placeholders in the order they appear', () => {
    const f = { state: 'assigned' as const, batchId: 4, serials: ['A', 'B'] };
    const ps = new Params(sqlite.ph);
    expect(tokenWhere(f, ps, sqlite)).toBe(
      'WHERE state = ? AND batch_id = ? AND serial IN (SELECT value FROM json_each(?))',
    );
    expect(ps.values).toEqual(['assigned', 4, '["A","B"]']);
    const pp = new Params(pg.ph);
    expect(tokenWhere(f, pp, pg)).toBe('WHERE state = $1 AND batch_id = $2 AND serial = ANY($3::text[])');
    expect(pp.values).toEqual(['assigned', 4, ['A', 'B']]);
    expect(tokenWhere({}, new Params(pg.ph), pg)).toBe('');
  });

  it('assignment filters and the audit listing', () => {
    const p = new Params(pg.ph);
    expect(assignmentWhere({ resourceId: 2, userId: 9 }, p)).toBe('WHERE resource_id = $1 AND user_id = $2');
    expect(p.values).toEqual([2, 9]);
    const q = auditListQuery({ subject: 's', action: 'a', limit: 5.7 }, dollarNumbers);
    expect(q.sql).toContain('WHERE subject = $1 AND action = $2 ORDER BY seq DESC LIMIT 5');
    expect(q.params).toEqual(['s', 'a']);
    expect(parseAuditHead('12:abc')).toEqual({ seq: 12, hash: 'abc' });
    expect(parseAuditHead(null)).toBeNull();
  });

  it('a token patch sets both counter columns and encodes booleans per dialect', () => {
    expect(tokenPatchColumns({ counter: 5, locked: true }, sqlite)).toEqual([
      ['counter', 5],
      ['locked', 1],
      ['counter_big', null],
    ]);
    expect(tokenPatchColumns({ counterExact: '18446744073709551615', checkDigit: false }, pg)).toEqual([
      ['check_digit', false],
      ['counter', Number.MAX_SAFE_INTEGER],
      ['counter_big', '18446744073709551615'],
    ]);
  });
});
