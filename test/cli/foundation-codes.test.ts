// @module-tag subprocess
/**
 * `tokens code` against oathtool (the reference implementation), through the
 * built CLI: sha1/sha256/sha512, 6 and 8 digits, 30 and 60 s, and HOTP counters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase32 } from '../../src/core/codecs.js';
import { assertBuilt, inParallel, runCommand, tokensmith } from './helpers.js';
import { titled, toolsMissing } from '../helpers/tools.js';

let dir: string;
beforeAll(() => {
  assertBuilt();
  dir = mkdtempSync(join(tmpdir(), 'tokensmith-cli-codes-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const newKey = () => randomBytes(32).toString('hex');

const missing = toolsMissing('tokens code equals oathtool', 'oathtool');

describe.skipIf(missing)(titled('tokens code equals oathtool', missing), () => {
  // RFC 6238 seeds, sized for their algorithm (labelled test seeds).
  const SEEDS = {
    sha1: Buffer.from('12345678901234567890', 'ascii'),
    sha256: Buffer.from('12345678901234567890123456789012', 'ascii'),
    sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
  };
  const TIMES = ['2009-02-13T23:31:30Z', '2033-05-18T03:33:20Z'];
  const matrix = (['sha1', 'sha256', 'sha512'] as const).flatMap((algorithm) =>
    [6, 8].flatMap((digits) => [30, 60].map((period) => ({ algorithm, digits, period }))),
  );
  let db: string;
  const key = newKey();

  beforeAll(async () => {
    db = join(dir, 'codes.db');
    // The first add creates the database; the rest can go two at a time.
    const adds = matrix.map((m) => [
      'tokens',
      'add',
      `${m.algorithm}-${m.digits}-${m.period}`,
      '--secret',
      encodeBase32(SEEDS[m.algorithm]),
      '--algorithm',
      m.algorithm,
      '--digits',
      String(m.digits),
      '--period',
      String(m.period),
    ]);
    const first = await tokensmith(['--db', db, ...adds[0]!], { TOKENSMITH_MASTER_KEY: key });
    expect(first.code, first.stderr).toBe(0);
    const rest = await inParallel(adds.slice(1), 2, (a) =>
      tokensmith(['--db', db, ...a], { TOKENSMITH_MASTER_KEY: key }),
    );
    for (const r of rest) expect(r.code, r.stderr).toBe(0);
  });

  it.each(matrix)('TOTP $algorithm, $digits digits, $period s', async ({ algorithm, digits, period }) => {
    const serial = `${algorithm}-${digits}-${period}`;
    const results = await inParallel(TIMES, 2, async (at) => {
      const [ours, theirs] = await Promise.all([
        tokensmith(['--db', db, 'tokens', 'code', serial, '--at', at], { TOKENSMITH_MASTER_KEY: key }),
        runCommand('oathtool', [
          `--totp=${algorithm}`,
          '-d',
          String(digits),
          '-s',
          `${period}s`,
          '-N',
          at,
          SEEDS[algorithm].toString('hex'),
        ]),
      ]);
      return { at, ours, theirs };
    });
    for (const { at, ours, theirs } of results) {
      expect(theirs.code, theirs.stderr).toBe(0);
      expect(ours.code, ours.stderr).toBe(0);
      expect(ours.stdout.trim(), `at ${at}`).toMatch(new RegExp(`^\\d{${digits}}$`));
      expect(ours.stdout.trim(), `at ${at}`).toBe(theirs.stdout.trim());
    }
  });

  it('the --json code object carries serial, code, at and validFor', async () => {
    const r = await tokensmith(['--db', db, '--json', 'tokens', 'code', 'sha1-8-30', '--at', '1970-01-01T00:00:59Z'], {
      TOKENSMITH_MASTER_KEY: key,
    });
    expect(JSON.parse(r.stdout)).toEqual({
      serial: 'sha1-8-30',
      code: '94287082',
      at: '1970-01-01T00:00:59.000Z',
      validFor: 1,
    });
    const unix = await tokensmith(['--db', db, 'tokens', 'code', 'sha1-8-30', '--at', '59'], {
      TOKENSMITH_MASTER_KEY: key,
    });
    expect(unix.stdout.trim()).toBe('94287082');
  });

  it.each([
    [0, 6],
    [7, 6],
    [1234567, 8],
  ])('HOTP at counter %i, %i digits', async (counter, digits) => {
    const serial = `hotp-${counter}-${digits}`;
    const add = await tokensmith(
      [
        '--db',
        db,
        'tokens',
        'add',
        serial,
        '--secret',
        encodeBase32(SEEDS.sha1),
        '--type',
        'hotp',
        '--counter',
        String(counter),
        '--digits',
        String(digits),
      ],
      {
        TOKENSMITH_MASTER_KEY: key,
      },
    );
    expect(add.code, add.stderr).toBe(0);
    const [ours, theirs] = await Promise.all([
      tokensmith(['--db', db, '--json', 'tokens', 'code', serial], { TOKENSMITH_MASTER_KEY: key }),
      runCommand('oathtool', ['--hotp', '-c', String(counter), '-d', String(digits), SEEDS.sha1.toString('hex')]),
    ]);
    expect(theirs.code, theirs.stderr).toBe(0);
    const j = JSON.parse(ours.stdout);
    expect(j.code, j.stderr).toBe(theirs.stdout.trim());
    expect(j.counter).toBe(counter);
  });
});
