/**
 * A backend (PostgreSQL) runs a transaction body again after a deadlock or a
 * serialization failure. The import's counts and error list must then come
 * from the run that counts, not add up over both runs.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { importSeedFile, ImportFailedError } from '../../src/import/service.js';
import { writeSamplePskc, SAMPLE_TOKENS } from '../../src/import/sample.js';
import { openStore, type Store } from '../../src/store/index.js';

class RetryableError extends Error {}

/** A store whose first transaction runs the body to its end, then fails as a deadlock would, and runs it again. */
function retryingOnce(real: Store): { store: Store; runs: () => number } {
  let runs = 0;
  let retried = false;
  const store = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'transaction') return Reflect.get(target, prop, receiver);
      return async <T>(fn: (tx: Parameters<Parameters<Store['transaction']>[0]>[0]) => Promise<T>): Promise<T> => {
        const counted = async (tx: Parameters<typeof fn>[0]) => {
          runs++;
          return fn(tx);
        };
        if (!retried) {
          retried = true;
          try {
            await target.transaction(async (tx) => {
              try {
                await counted(tx);
              } catch {
                // Whatever the body decided, the backend fails this attempt.
              }
              throw new RetryableError('deadlock detected');
            });
          } catch (err) {
            if (!(err instanceof RetryableError)) throw err;
          }
        }
        return target.transaction(counted);
      };
    },
  });
  return { store, runs: () => runs };
}

let dir: string;
let real: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tokensmith-import-retry-'));
  real = await openStore({
    db: join(dir, 't.db'),
    env: { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex'), TOKENSMITH_OPERATOR: 'test' },
  });
});
afterEach(async () => {
  await real.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('an import whose transaction body runs twice', () => {
  it('counts each token once', async () => {
    const file = join(dir, 'sample.pskc.xml');
    writeSamplePskc(file, 'pw', SAMPLE_TOKENS);
    const { store, runs } = retryingOnce(real);
    const summary = await importSeedFile(store, { file, password: 'pw' });
    expect(runs()).toBe(2);
    expect(summary).toMatchObject({ imported: SAMPLE_TOKENS.length, skipped: 0, failed: 0, errors: [] });
    expect(summary.batch).not.toBeNull();
    expect(await real.tokens.count()).toBe(SAMPLE_TOKENS.length);
  });

  it('reports each bad record once', async () => {
    const file = join(dir, 'tampered.pskc.xml');
    writeSamplePskc(file, 'pw', SAMPLE_TOKENS);
    const text = readFileSync(file, 'utf8');
    const i = text.lastIndexOf('<pskc:ValueMAC>') + 15;
    writeFileSync(file, text.slice(0, i) + (text[i] === 'A' ? 'B' : 'A') + text.slice(i + 1));
    const { store, runs } = retryingOnce(real);
    const err = await importSeedFile(store, { file, password: 'pw' }).catch((e: unknown) => e);
    expect(runs()).toBe(2);
    expect(err).toBeInstanceOf(ImportFailedError);
    const report = (err as ImportFailedError).report;
    expect(report).toMatchObject({ imported: 0, failed: 1, batch: null });
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]!.message).toMatch(/ValueMAC does not match/);
    expect(await real.tokens.count()).toBe(0);
  });
});
