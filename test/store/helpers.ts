/** Temp folders and stores for the store tests: each test gets its own database and key. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite/store.js';

export function randomKeyHex(): string {
  return randomBytes(32).toString('hex');
}

export class TempStores {
  private readonly dirs: string[] = [];
  private readonly stores: SqliteStore[] = [];

  dir(): string {
    const d = mkdtempSync(join(tmpdir(), 'tokensmith-store-test-'));
    this.dirs.push(d);
    return d;
  }

  /** Opens (or reopens) a store at `path`; without `env` a fresh random master key is used. */
  open(path: string, env: NodeJS.ProcessEnv = { TOKENSMITH_MASTER_KEY: randomKeyHex() }): SqliteStore {
    const s = openSqliteStore({ path, env, operator: 'test' });
    this.stores.push(s);
    return s;
  }

  async cleanup(): Promise<void> {
    for (const s of this.stores.splice(0)) await s.close();
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }
}

export const baseToken = {
  kind: 'classic' as const,
  type: 'totp' as const,
  algorithm: 'sha1' as const,
  digits: 6,
  period: 30,
  counter: 0,
  state: 'in_stock' as const,
};
