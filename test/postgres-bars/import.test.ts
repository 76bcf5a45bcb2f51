// @module-tag postgres
/**
 * Issue 4's bars on PostgreSQL (TOKENSMITH_DB=postgres://...): every RFC 6030
 * figure and every CSV dialect imports with exactly the expected values
 * (tokens show --show-secret --json). The csv2pskc round trip, the bad inputs
 * and the conflicts are in import-bad.test.ts (split to keep each file short).
 */
import { describe, expect, it } from 'vitest';
import { base32ToHex, expectedOf, fixture } from '../import/helpers.js';
import { PG_SKIP, PgCli, usePostgres } from './helpers.js';

usePostgres();
const d = PG_SKIP ? describe.skip : describe;
if (PG_SKIP) it.skip(`skipped: ${PG_SKIP}`, () => undefined);

const typeOf = (uri: string) => uri.split(':').pop();

d('import bars on PostgreSQL', () => {
  it('every RFC 6030 figure imports (each into its own database) with the expected serials, seeds, algorithms, digits and counters', async () => {
    const rfc = expectedOf('rfc6030');
    for (const f of rfc.files as any[]) {
      const s = await PgCli.create();
      try {
        const flags = f.encryption?.preSharedKeyHex
          ? ['--key', f.encryption.preSharedKeyHex]
          : f.encryption?.password
            ? ['--password', f.encryption.password]
            : [];
        if (f.file === 'figure10.xml') {
          // Its policies expired in 2006 (RFC 6030 section 5): refused with the reason, as on SQLite.
          const refused = await s.run(['import', fixture('rfc6030', f.file), ...flags]);
          expect(refused.code, f.file).toBe(4);
          expect(refused.stdout + refused.stderr).toMatch(/expired on 2006/);
          continue;
        }
        const r = await s.json(['import', fixture('rfc6030', f.file), ...flags]);
        const otp = (f.keyPackages as any[]).filter((k) => typeOf(k.algorithm) !== 'pin');
        const serials = new Set(otp.map((k) => k.serial ?? k.keyId));
        expect(r, f.file).toMatchObject({ imported: serials.size, failed: 0, errors: [] });
        const tokens = await s.tokens();
        expect([...tokens.keys()].sort(), f.file).toEqual([...serials].sort());
        for (const k of otp) {
          const v = tokens.get(k.serial ?? k.keyId);
          expect(base32ToHex(v.secret), `${f.file} ${k.serial}`).toBe(k.secretHex);
          expect(v, `${f.file} ${k.serial}`).toMatchObject({
            type: typeOf(k.algorithm),
            algorithm: 'sha1',
            digits: k.digits ?? 6,
            counter: k.counter ?? 0,
            state: 'in_stock',
          });
          if (k.manufacturer) expect(v.manufacturer).toBe(k.manufacturer);
        }
        expect(await s.json(['audit', 'verify'])).toMatchObject({ ok: true });
      } finally {
        s.cleanup();
      }
    }
  });

  it('every CSV / text dialect imports with the expected serials, seeds, algorithms, digits, periods and counters', async () => {
    const csv = expectedOf('csv');
    const s = await PgCli.create();
    try {
      for (const f of csv.files as any[]) {
        const r = await s.json(['import', fixture('csv', f.file)]);
        expect(r, f.file).toMatchObject({ imported: f.tokens.length, failed: 0, errors: [] });
      }
      const tokens = await s.tokens();
      const all = (csv.files as any[]).flatMap((f) => f.tokens.map((t: any) => ({ ...t, file: f.file })));
      expect(tokens.size).toBe(all.length);
      for (const t of all) {
        const v = tokens.get(t.serial);
        expect(v, `${t.file} ${t.serial}`).toBeTruthy();
        // LinOTP's day password keeps its key as the text LinOTP hashes (as test/import/csv.test.ts reads it).
        const secret = base32ToHex(v.secret);
        expect(t.type === 'dpw' ? Buffer.from(secret, 'hex').toString('ascii') : secret, `${t.file} ${t.serial}`).toBe(
          t.secretHex,
        );
        if (t.type) expect(v.type, `${t.file} ${t.serial}`).toBe(t.type);
        if (t.hash) expect(v.algorithm, `${t.file} ${t.serial}`).toBe(t.hash);
        if (t.digits) expect(v.digits, `${t.file} ${t.serial}`).toBe(t.digits);
        if (t.period) expect(v.period, `${t.file} ${t.serial}`).toBe(t.period);
        if (t.counter !== undefined) expect(v.counter, `${t.file} ${t.serial}`).toBe(t.counter);
        if (t.manufacturer) expect(v.manufacturer, `${t.file} ${t.serial}`).toBe(t.manufacturer);
      }
      expect(await s.json(['audit', 'verify'])).toMatchObject({ ok: true });
    } finally {
      s.cleanup();
    }
  });
});
