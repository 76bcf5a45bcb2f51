// @module-tag daemon
/**
 * A wrong directory password takes as long as a wrong local password or an unknown login (each costs at least one
 * scrypt), and all three get the same words; against a real slapd on loopback.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/core/password.js';
import { addDirectory, linkResource } from '../../src/provision/directories.js';
import { syncDirectory } from '../../src/provision/directory-sync.js';
import { signIn } from '../../src/provision/portal-signin.js';
import { createResource } from '../../src/provision/resources.js';
import { openStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/types.js';
import {
  destroySlapd,
  READER_DN,
  READER_PW,
  slapdMissing,
  startSlapd,
  SUFFIX,
  type TestSlapd,
} from '../helpers/slapd.js';

const skip = slapdMissing();
const TRIES = 7;

describe.skipIf(skip !== null)(`directory sign-in timing${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let s: TestSlapd;
  let store: Store;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tokensmith-dirtiming-'));
    const people = Array.from({ length: TRIES + 1 }, (_, i) => ({ uid: `d${i}`, password: `pw-${i}` }));
    s = await startSlapd(people, { vpn: people.map((p) => p.uid) });
    store = await openStore({ db: join(dir, 't.db'), env: { ...process.env, TOKENSMITH_MASTER_KEY: '44'.repeat(32) } });
    const r = await createResource(store, { name: 'vpn' });
    await store.resources.update(r.id, { lockAfter: 100 });
    await addDirectory(store, 'corp', {
      url: s.ldapUrl,
      starttls: true,
      caFile: s.ca.caFile,
      bindDn: READER_DN,
      baseDn: SUFFIX,
      bindPassword: READER_PW,
    });
    await linkResource(store, 'vpn', { directory: 'corp', group: `cn=vpn,ou=groups,${SUFFIX}` });
    await syncDirectory(store, 'corp');
    const local = await store.users.create({ login: 'local1', passwordHash: await hashPassword('local pw 1') });
    await store.users.addToResource(local.id, r.id);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    if (s) await destroySlapd(s);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** One refused try: its time and its message with the count of tries left taken out. */
  async function refusedOnce(login: string): Promise<{ ms: number; words: string }> {
    const t0 = performance.now();
    const err = await signIn(store, { resource: 'vpn', login, password: 'wrong password' }).catch((e: Error) => e);
    return { ms: performance.now() - t0, words: String((err as Error).message).replace(/\d+ attempt/, 'N attempt') };
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  it('a wrong directory password, a wrong local password and an unknown login: the same words, a like time', async () => {
    await refusedOnce('warm-up');
    // Interleaved, so that a busy machine slows the three kinds alike instead of one of them.
    const times = { unknown: [] as number[], local: [] as number[], directory: [] as number[] };
    const words = new Set<string>();
    for (let i = 0; i < TRIES; i++) {
      for (const [kind, login] of [
        ['unknown', `nobody${i}`],
        ['local', 'local1'],
        ['directory', `d${i}`],
      ] as const) {
        const r = await refusedOnce(login);
        times[kind].push(r.ms);
        words.add(r.words);
      }
    }
    expect([...words]).toHaveLength(1);
    const ratio = median(times.directory) / median(times.unknown);
    // Without the scrypt beside the bind, a directory refusal answers in a fraction of the time.
    expect(ratio).toBeGreaterThan(0.7);
    expect(ratio).toBeLessThan(3);
  });
});
