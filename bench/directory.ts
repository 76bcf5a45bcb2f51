/**
 * Directory sync at scale: a real OpenLDAP slapd on loopback (StartTLS) with
 * 10,020 people, a group of 10,000 linked to a Resource; three syncs into a
 * fresh SQLite store (or the PostgreSQL database given): the first adds
 * everyone, the second finds nothing changed, the third 100 changes (60 new
 * mail addresses, 20 leavers, 20 joiners). Prints each sync's time and peak
 * memory (RSS and heap, sampled every 10 ms).
 *
 *   npm run build && npm run bench:directory [-- <postgres://... empty database>]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addDirectory, linkResource } from '../src/provision/directories.js';
import { syncDirectory } from '../src/provision/directory-sync.js';
import { createResource } from '../src/provision/resources.js';
import { openStore } from '../src/store/index.js';
import { destroySlapd, READER_DN, READER_PW, slapdMissing, startSlapd, SUFFIX } from '../test/helpers/slapd.js';

const MEMBERS = 10_000;
const EXTRA = 20;
const uid = (i: number) => `u${String(i).padStart(5, '0')}`;
const GROUP = `cn=staff,ou=groups,${SUFFIX}`;

async function measure<T>(label: string, fn: () => Promise<T>): Promise<T> {
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    rss = Math.max(rss, m.rss);
    heap = Math.max(heap, m.heapUsed);
  };
  const timer = setInterval(sample, 10);
  const t0 = performance.now();
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    sample();
    const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
    console.log(
      `${label.padEnd(34)} ${((performance.now() - t0) / 1000).toFixed(2).padStart(7)} s   peak RSS ${mb(rss)}, heap ${mb(heap)}`,
    );
  }
}

async function main(): Promise<void> {
  const missing = slapdMissing();
  if (missing) throw new Error(missing);
  const dir = mkdtempSync(join(tmpdir(), 'tokensmith-bench-dir-'));
  const people = Array.from({ length: MEMBERS + EXTRA }, (_, i) => ({ uid: uid(i), password: `pw-${i}` }));
  const slapd = await startSlapd(people, { staff: people.slice(0, MEMBERS).map((p) => p.uid) });
  const env = { ...process.env, TOKENSMITH_MASTER_KEY: '33'.repeat(32) };
  const store = await openStore({ db: process.argv[2] ?? join(dir, 'bench.db'), env });
  try {
    await createResource(store, { name: 'staff' });
    await addDirectory(store, 'corp', {
      url: slapd.ldapUrl,
      starttls: true,
      caFile: slapd.ca.caFile,
      bindDn: READER_DN,
      baseDn: SUFFIX,
      bindPassword: READER_PW,
    });
    await linkResource(store, 'staff', { directory: 'corp', group: GROUP });
    const summary = async (label: string) => {
      const r = (await measure(label, () => syncDirectory(store, 'corp'))).resources[0]!;
      console.log(
        `  ${r.added.length} added, ${r.updated.length} updated, ${r.disabled.length} disabled, ${r.left.length} left, ${r.unchanged} unchanged`,
      );
    };
    console.log(
      `directory sync of ${MEMBERS} people over StartTLS, page size 500, ${process.argv[2] ? 'PostgreSQL' : 'SQLite'}`,
    );
    await summary('first sync (everyone new)');
    await summary('second sync (nothing changed)');
    const mail = Array.from(
      { length: 60 },
      (_, i) =>
        `dn: uid=${uid(i)},ou=people,${SUFFIX}\nchangetype: modify\nreplace: mail\nmail: ${uid(i)}@new.example.org\n`,
    );
    const leave = Array.from({ length: 20 }, (_, i) => `member: uid=${uid(100 + i)},ou=people,${SUFFIX}`);
    const join_ = Array.from({ length: EXTRA }, (_, i) => `member: uid=${uid(MEMBERS + i)},ou=people,${SUFFIX}`);
    slapd.modify(
      [
        ...mail,
        `dn: ${GROUP}\nchangetype: modify\ndelete: member\n${leave.join('\n')}\n-\nadd: member\n${join_.join('\n')}\n`,
      ].join('\n'),
    );
    await summary('third sync (100 changes)');
  } finally {
    await store.close();
    await destroySlapd(slapd);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
