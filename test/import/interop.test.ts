// @module-tag subprocess
/**
 * Interop with the reference implementation (python-pskc): files written by
 * csv2pskc with random parameters (password or key, 6 or 8 digits, 30 or
 * 60 s, HOTP with counters) import with exactly the seeds and parameters
 * that pskc2csv reads back from the same file.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { base32ToHex, CliStore } from './helpers.js';
import { titled, toolsMissing } from '../helpers/tools.js';

const missing = toolsMissing('the csv2pskc round trip', 'csv2pskc', 'pskc2csv');
const s = new CliStore();
afterAll(() => s.cleanup());

interface Spec {
  serial: string;
  secret: string;
  type: 'hotp' | 'totp';
  digits: number;
  interval: number;
  counter: number;
}

function randomSpecs(prefix: string, n: number): Spec[] {
  return Array.from({ length: n }, (_, i) => {
    const type = randomInt(2) === 0 ? 'hotp' : 'totp';
    return {
      serial: `${prefix}${String(i).padStart(4, '0')}`,
      secret: randomBytes([16, 20, 32][randomInt(3)]!).toString('hex'),
      type,
      digits: [6, 8][randomInt(2)]!,
      interval: [30, 60][randomInt(2)]!,
      counter: type === 'hotp' ? randomInt(100000) : 0,
    };
  });
}

function writeCsv(file: string, specs: Spec[]): void {
  const rows = specs.map((t) =>
    [
      t.serial,
      t.secret,
      `urn:ietf:params:xml:ns:keyprov:pskc:${t.type}`,
      t.digits,
      t.type === 'totp' ? t.interval : '',
      t.type === 'hotp' ? t.counter : '',
    ].join(','),
  );
  writeFileSync(file, ['serial,secret,algorithm,response_length,time_interval,counter', ...rows].join('\n') + '\n');
}

describe.skipIf(missing)(titled('csv2pskc files import as pskc2csv reads them', missing), () => {
  const variants: { name: string; protect: string[] }[] = [
    { name: 'password (PBKDF2)', protect: ['-p', `pw-${randomBytes(6).toString('hex')}`] },
    { name: 'pre-shared key', protect: ['-s', randomBytes(16).toString('hex')] },
    { name: 'plain', protect: [] },
  ];
  for (const [n, v] of variants.entries()) {
    it(`${v.name}`, async () => {
      const specs = randomSpecs(`IOP${n}-`, 6);
      const csv = join(s.dir, `in${n}.csv`);
      const pskc = join(s.dir, `out${n}.xml`);
      writeCsv(csv, specs);
      execFileSync('csv2pskc', [...v.protect, '-o', pskc, csv]);
      // What the reference reads back from the same file.
      const back = execFileSync(
        'pskc2csv',
        [...v.protect, '-c', 'serial,secret,algorithm,response_length,time_interval,counter', pskc],
        { encoding: 'utf8' },
      );
      const ref = back
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(','));
      expect(ref).toHaveLength(specs.length);
      const flags =
        v.protect[0] === '-p' ? ['--password', v.protect[1]!] : v.protect[0] === '-s' ? ['--key', v.protect[1]!] : [];
      const r = await s.json(['import', pskc, ...flags]);
      expect(r).toMatchObject({ imported: specs.length, failed: 0 });
      for (const [serial, secret, algorithm, digits, interval, counter] of ref) {
        const t = await s.json(['tokens', 'show', serial!, '--show-secret']);
        expect(base32ToHex(t.secret)).toBe(secret);
        expect(t.type).toBe(algorithm!.split(':').pop());
        expect(t.digits).toBe(Number(digits));
        if (t.type === 'totp') expect(t.period).toBe(Number(interval));
        else expect(t.counter).toBe(Number(counter || 0));
      }
    });
  }
});
