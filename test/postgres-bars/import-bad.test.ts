// @module-tag postgres
/**
 * Issue 4's bars on PostgreSQL (TOKENSMITH_DB=postgres://...), second half: a
 * csv2pskc file round-trips, every bad input exits 4 and leaves tokens and
 * batches unchanged, a serial twice / a conflicting seed are conflicts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { base32ToHex, expectedOf, fixture } from '../import/helpers.js';
import { PG_SKIP, PgCli, usePostgres } from './helpers.js';

usePostgres();
const d = PG_SKIP ? describe.skip : describe;
if (PG_SKIP) it.skip(`skipped: ${PG_SKIP}`, () => undefined);

const typeOf = (uri: string) => uri.split(':').pop();

d('import bars on PostgreSQL: interop, bad inputs, conflicts', () => {
  const haveTools =
    spawnSync('csv2pskc', ['--version']).status === 0 && spawnSync('pskc2csv', ['--version']).status === 0;
  it.skipIf(!haveTools && !process.env.CI)(
    'a csv2pskc-written file (PBKDF2 password) imports as pskc2csv reads it back',
    async () => {
      const s = await PgCli.create();
      try {
        const pw = `pw-${randomBytes(6).toString('hex')}`;
        const specs = Array.from({ length: 6 }, (_, i) => ({
          serial: `IOPG-${i}`,
          secret: randomBytes([16, 20, 32][i % 3]!).toString('hex'),
          type: i % 2 ? 'totp' : 'hotp',
          digits: i % 4 < 2 ? 6 : 8,
          interval: i % 3 ? 30 : 60,
          counter: i % 2 ? 0 : 1000 + i,
        }));
        const csvFile = join(s.dir, 'in.csv');
        const pskc = join(s.dir, 'out.xml');
        writeFileSync(
          csvFile,
          [
            'serial,secret,algorithm,response_length,time_interval,counter',
            ...specs.map((t) =>
              [
                t.serial,
                t.secret,
                `urn:ietf:params:xml:ns:keyprov:pskc:${t.type}`,
                t.digits,
                t.type === 'totp' ? t.interval : '',
                t.type === 'hotp' ? t.counter : '',
              ].join(','),
            ),
          ].join('\n') + '\n',
        );
        execFileSync('csv2pskc', ['-p', pw, '-o', pskc, csvFile]);
        const ref = execFileSync(
          'pskc2csv',
          ['-p', pw, '-c', 'serial,secret,algorithm,response_length,time_interval,counter', pskc],
          { encoding: 'utf8' },
        )
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => l.split(','));
        expect(ref).toHaveLength(specs.length);
        expect(await s.json(['import', pskc, '--password', pw])).toMatchObject({ imported: specs.length, failed: 0 });
        for (const [serial, secret, algorithm, digits, interval, counter] of ref) {
          const t = await s.json(['tokens', 'show', serial!, '--show-secret']);
          expect(base32ToHex(t.secret)).toBe(secret);
          expect(t.type).toBe(typeOf(algorithm!));
          expect(t.digits).toBe(Number(digits));
          if (t.type === 'totp') expect(t.period).toBe(Number(interval));
          else expect(t.counter).toBe(Number(counter || 0));
        }
      } finally {
        s.cleanup();
      }
    },
  );

  it('every bad input exits 4 and leaves tokens and batches unchanged; a serial twice and a conflicting seed are conflicts', async () => {
    const s = await PgCli.create();
    try {
      expect((await s.json(['import', fixture('rfc6030', 'figure3.xml')])).imported).toBe(1);
      const bad = expectedOf('bad');
      const before = await s.snapshot();
      expect(before).toContain('987654321');
      for (const f of bad.files as any[]) {
        const flags = f.expectedError?.withPassword
          ? ['--password', f.expectedError.withPassword]
          : f.preSharedKeyHex
            ? ['--key', f.preSharedKeyHex]
            : [];
        const r = await s.run(['import', fixture('bad', f.file), ...flags]);
        expect(r.code, `${f.file}: ${r.stderr}`).toBe(4);
        expect(r.stderr, f.file).toContain(f.file);
        if (f.expectedError?.serial) expect(r.stderr, f.file).toContain(f.expectedError.serial);
        if (f.expectedError?.kind === 'duplicate-serial') expect(r.stderr, f.file).toMatch(/twice|first at/);
        expect(await s.snapshot(), f.file).toBe(before);
      }
      // A conflicting seed for a known serial, whatever --on-duplicate says.
      const conflict = join(s.dir, 'conflict.csv');
      writeFileSync(conflict, `987654321, ${'ab'.repeat(20)}, hotp, 8\n`);
      for (const mode of ['fail', 'skip', 'update']) {
        const r = await s.run(['import', conflict, '--format', 'oath-csv', '--on-duplicate', mode]);
        expect(r.code, r.stderr).toBe(4);
        expect(r.stderr).toMatch(
          /serial 987654321 \(Manufacturer\) is already in the store .* different seed: a conflict/,
        );
      }
      expect(await s.snapshot()).toBe(before);
      // A serial the store holds, again: the same file twice, and another file (figure 5) with the same serial and seed.
      const again = await s.run(['import', fixture('rfc6030', 'figure3.xml')]);
      expect(again.code, again.stderr).toBe(4);
      expect(again.stderr).toMatch(/already imported as batch 1/);
      const twice = await s.run(['import', fixture('rfc6030', 'figure5.xml')]);
      expect(twice.code, twice.stderr).toBe(4);
      expect(twice.stderr).toMatch(
        /serial 987654321 \(Manufacturer\) is already in the store \(batch 1\) with the same seed/,
      );
      expect(await s.snapshot()).toBe(before);
      // The right password for wrong-password.xml imports its one token: the refusals above were not about the store.
      const wp = (bad.files as any[]).find((f) => f.file === 'wrong-password.xml');
      expect(
        await s.json(['import', fixture('bad', 'wrong-password.xml'), '--password', wp.rightPassword]),
      ).toMatchObject({ imported: 1 });
      expect(base32ToHex((await s.json(['tokens', 'show', wp.withRightPassword.serial, '--show-secret'])).secret)).toBe(
        wp.withRightPassword.secretHex,
      );
      expect(await s.json(['audit', 'verify'])).toMatchObject({ ok: true });
    } finally {
      s.cleanup();
    }
  });
});
