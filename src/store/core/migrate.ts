/**
 * The migration runner, one for both dialects: read the applied versions,
 * refuse a database from a newer tokensmith, then apply each missing step
 * in order and record it. The steps themselves (the SQL, the transaction
 * and lock around them) are the dialect's MigrationHost. The runner is a
 * generator so a synchronous host (better-sqlite3, opened synchronously)
 * runs it synchronously and an async one (node-postgres) awaits each step.
 */
import { DataError } from '../../core/errors.js';

type MaybeAsync<T> = T | Promise<T>;

export interface MigrationHost<M extends { version: number }, A extends 'sync' | 'async'> {
  /** The versions applied so far (none when the database is new). */
  applied(): A extends 'sync' ? Set<number> : MaybeAsync<Set<number>>;
  /** Starts a run that has work to do (a lock on PostgreSQL); `applied` is read again after it. */
  begin(): A extends 'sync' ? void : MaybeAsync<void>;
  /** Applies and records one migration; false when another process applied it meanwhile. */
  apply(m: M): A extends 'sync' ? boolean : MaybeAsync<boolean>;
  commit(): A extends 'sync' ? void : MaybeAsync<void>;
  rollback(): A extends 'sync' ? void : MaybeAsync<void>;
}

function refuseNewer(applied: Set<number>, known: Set<number>): void {
  const unknown = [...applied].filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw new DataError(
      `this database was written by a newer tokensmith (schema migration ${Math.max(...unknown)}); upgrade tokensmith`,
      { code: 'schema-too-new' },
    );
  }
}

/** The run, step by step: each yield hands back what the host returned (awaited by the async driver). */
function* migrationRun<M extends { version: number }>(
  list: M[],
  host: MigrationHost<M, 'async'>,
): Generator<unknown, number[], unknown> {
  const known = new Set(list.map((m) => m.version));
  // Fast path: opening an up-to-date database reads one table and goes on.
  const seen = (yield host.applied()) as Set<number>;
  refuseNewer(seen, known);
  if ([...known].every((v) => seen.has(v))) return [];
  try {
    yield host.begin();
    // Read again under the host's lock: another process may have migrated meanwhile.
    const applied = (yield host.applied()) as Set<number>;
    refuseNewer(applied, known);
    const done: number[] = [];
    for (const m of [...list].sort((a, b) => a.version - b.version)) {
      if (applied.has(m.version)) continue;
      if ((yield host.apply(m)) as boolean) done.push(m.version);
    }
    yield host.commit();
    return done;
  } catch (err) {
    yield host.rollback();
    throw err;
  }
}

/** Runs the migrations a synchronous host lacks; the versions applied. */
export function runMigrationsSync<M extends { version: number }>(list: M[], host: MigrationHost<M, 'sync'>): number[] {
  // A synchronous host is an async one whose steps are already done.
  const run = migrationRun(list, host as unknown as MigrationHost<M, 'async'>);
  let step = run.next();
  while (!step.done) step = run.next(step.value);
  return step.value;
}

/** Runs the migrations an async host lacks; the versions applied. */
export async function runMigrations<M extends { version: number }>(
  list: M[],
  host: MigrationHost<M, 'async'>,
): Promise<number[]> {
  const run = migrationRun(list, host);
  let step = run.next();
  while (!step.done) {
    try {
      step = run.next(await step.value);
    } catch (err) {
      step = run.throw(err);
    }
  }
  return step.value;
}
