/** A temp store filled through the repositories, and runners for the Debian PSKC reference tools. */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../src/store/index.js';
import type { NewToken, Store, TokenRecord } from '../../src/store/types.js';

const run = promisify(execFile);

export const MASTER_KEY = '5a'.repeat(32);

/** Labelled test seeds (RFC 4226/6238 style ASCII), never real tokens'. */
export const SEED20 = Buffer.from('12345678901234567890', 'ascii');
export const SEED32 = Buffer.from('12345678901234567890123456789012', 'ascii');
export const SEED64 = Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii');

export interface TestStore {
  store: Store;
  dir: string;
  path: string;
  close(): Promise<void>;
}

export async function tempStore(): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-export-'));
  const path = join(dir, 't.db');
  const store = await openStore({ db: path, env: { TOKENSMITH_MASTER_KEY: MASTER_KEY }, operator: 'test' });
  return {
    store,
    dir,
    path,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function newToken(serial: string, over: Partial<NewToken> = {}): NewToken {
  return {
    serial,
    manufacturer: 'Tokensmith Test',
    model: 'TST-1',
    kind: 'classic',
    type: 'totp',
    algorithm: 'sha1',
    digits: 6,
    period: 30,
    counter: 0,
    state: 'in_stock',
    seed: SEED20,
    ...over,
  };
}

/** Tokens of every kind the acceptance asks for. */
export const EVERY_KIND: NewToken[] = [
  newToken('K-SHA1-6-30', { driftSteps: -3 }),
  newToken('K-SHA256-8-60', { algorithm: 'sha256', digits: 8, period: 60, seed: SEED32, driftSteps: 2 }),
  newToken('K-SHA512-6-30', { algorithm: 'sha512', seed: SEED64, model: 'TST-512' }),
  newToken('K-SHA1-8-60', { digits: 8, period: 60, manufacturer: 'Other & Sons <x>' }),
  newToken('K-HOTP', { type: 'hotp', counter: 42, kind: 'programmable', state: 'programmed', model: null }),
];

export async function addTokens(store: Store, tokens: NewToken[]): Promise<TokenRecord[]> {
  const out: TokenRecord[] = [];
  for (const t of tokens) out.push(await store.tokens.insert(t));
  return out;
}

/** Assigns every token to one user (a user has one token per Resource, so a Resource per token): Entra rows need a UPN. */
export async function assignAllTo(store: Store, tokens: TokenRecord[], login = 'alice@contoso.example'): Promise<void> {
  const u = (await store.users.findByLogin(login)) ?? (await store.users.create({ login }));
  for (const t of tokens) {
    const r = await store.resources.create({ name: `r-${login}-${t.serial}` });
    await store.assignments.create({ tokenId: t.id, userId: u.id, resourceId: r.id });
    await store.tokens.update(t.id, { state: 'assigned' });
  }
}

/** A Resource with users, tokens in its stock and assignments (made through the repositories). */
export async function resourceWithUsers(store: Store, name: string, n: number): Promise<{ tokens: TokenRecord[] }> {
  const r = await store.resources.create({ name, url: `https://sso.example.test/${name}` });
  await store.resources.update(r.id, { actions: ['enroll', 'synchronize'], tokenTypes: ['classic'] });
  const tokens: TokenRecord[] = [];
  for (let i = 1; i <= n; i++) {
    const u = await store.users.create({
      login: `user${i}@example.test`,
      email: `user${i}@example.test`,
      phone: `+4100000000${i}`,
      passwordHash: i === 1 ? 'scrypt$test$hash' : null,
    });
    await store.users.addToResource(u.id, r.id);
    const t = await store.tokens.insert(
      newToken(`${name}-T${i}`, {
        resourceId: r.id,
        seed: Buffer.from(`resource-seed-${name}-${i}-xxxxx`).subarray(0, 20),
      }),
    );
    if (i < n) {
      await store.assignments.create({ tokenId: t.id, userId: u.id, resourceId: r.id });
      tokens.push(await store.tokens.update(t.id, { state: 'assigned' }));
    } else tokens.push(t);
  }
  return { tokens };
}

/** pskc2csv is a Python script of python3-pskc; its shebang picks the interpreter that has the module. */
export async function pskc2csv(file: string, args: string[]): Promise<Record<string, string>[]> {
  const { stdout } = await run('pskc2csv', [
    ...args,
    '-c',
    'serial,secret,manufacturer,model,algorithm,response_length,time_interval,counter,time_drift,algorithm_suite',
    file,
  ]);
  const [head, ...rows] = stdout.trim().split(/\r?\n/);
  const cols = head!.split(',');
  // Test values hold no commas except where the test says so.
  return rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i]!, v])));
}

export async function pskctoolValidate(file: string): Promise<string> {
  try {
    const { stdout } = await run('pskctool', ['--validate', file]);
    return stdout.trim();
  } catch (err) {
    return `${(err as { stdout?: string }).stdout ?? ''}`.trim() || 'FAIL';
  }
}
