// @module-tag subprocess
/**
 * RFC 6238 T0, Luhn check digits and 64-bit HOTP counters, judged by tools we
 * did not write: oathtool (--start-time is T0; --counter takes a uint64) and
 * python-stdnum's Luhn. The RFC test seeds are labelled test seeds.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findCode, generateCode, luhnDigit, stepAt } from '../../src/core/otp.js';
import type { TokenSpec } from '../../src/core/spec.js';
import { PYTHON, titled, toolsMissing } from '../helpers/tools.js';

const SEED = Buffer.from('12345678901234567890', 'ascii');
const SEED_HEX = SEED.toString('hex');
const RFC4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];
const noOathtool = toolsMissing('the oathtool comparisons', 'oathtool');
const noStdnum = toolsMissing('the python-stdnum comparison', 'python3-stdnum');
const oathtool = (...args: string[]) => execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
const iso = (sec: number) =>
  new Date(sec * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

describe('RFC 6238 T0', () => {
  it('steps count from T0: RFC 6238 vector 59 s after a T0 of 1234567890 is 94287082 (as at T=59 with T0=0)', () => {
    const spec: TokenSpec = { type: 'totp', algorithm: 'sha1', digits: 8, period: 30, counter: 0, t0: 1_234_567_890 };
    expect(stepAt(new Date((1_234_567_890 + 59) * 1000), 30, 1_234_567_890)).toBe(1);
    expect(generateCode(SEED, spec, { at: new Date((1_234_567_890 + 59) * 1000) })).toBe('94287082');
  });

  for (const [t0, at, period] of [
    [1_000_000_000, 1_111_111_111, 30],
    [1_700_000_015, 1_700_003_333, 60],
    [86_400, 2_000_000_000, 30],
  ] as const) {
    it.skipIf(noOathtool)(
      titled(`equals oathtool --start-time ${iso(t0)} --now ${iso(at)} (step ${period} s)`, noOathtool),
      () => {
        const spec: TokenSpec = { type: 'totp', algorithm: 'sha1', digits: 6, period, counter: 0, t0 };
        const want = oathtool(
          '--totp',
          `--time-step-size=${period}`,
          `--start-time=${iso(t0)}`,
          `--now=${iso(at)}`,
          SEED_HEX,
        );
        expect(generateCode(SEED, spec, { at: new Date(at * 1000) })).toBe(want);
        // Without T0 the code differs: the field is what makes it right.
        expect(generateCode(SEED, { ...spec, t0: 0 }, { at: new Date(at * 1000) })).not.toBe(want);
        expect(findCode(SEED, spec, want, { at: new Date(at * 1000), window: 0 })).not.toBeNull();
      },
    );
  }
});

describe('Luhn check digit', () => {
  it('computes the published Luhn vectors', () => {
    expect(luhnDigit('7992739871')).toBe('3');
    expect(luhnDigit('9876234510')).toBe('0');
    expect(luhnDigit('246897531')).toBe('9');
  });

  it.skipIf(noStdnum)(titled('appends it to each RFC 4226 code as python-stdnum computes it', noStdnum), () => {
    const py = execFileSync(
      PYTHON,
      ['-c', `import stdnum.luhn as l\nfor c in ${JSON.stringify(RFC4226)}: print(c + l.calc_check_digit(c))`],
      { encoding: 'utf8' },
    );
    const want = py.trim().split('\n');
    const spec: TokenSpec = { type: 'hotp', algorithm: 'sha1', digits: 6, period: 30, counter: 0, checkDigit: true };
    expect(RFC4226.map((_, i) => generateCode(SEED, spec, { counter: i }))).toEqual(want);
    expect(want.every((c) => c.length === 7)).toBe(true);
    expect(findCode(SEED, { ...spec, counter: 3 }, want[4]!, { window: 2 })).toEqual({ step: 4, offset: 1 });
    // The plain six digits are not accepted from a token that shows seven.
    expect(findCode(SEED, { ...spec, counter: 3 }, RFC4226[4]!, { window: 2 })).toBeNull();
  });
});

describe('HOTP counters beyond 2^53', () => {
  for (const c of ['9007199254740993', '18446744073709551615', '18446744073709551614']) {
    it.skipIf(noOathtool)(titled(`counter ${c} equals oathtool --counter`, noOathtool), () => {
      const spec: TokenSpec = {
        type: 'hotp',
        algorithm: 'sha1',
        digits: 6,
        period: 30,
        counter: Number.MAX_SAFE_INTEGER,
        counterExact: c,
      };
      expect(generateCode(SEED, spec)).toBe(oathtool(`--counter=${c}`, SEED_HEX));
      expect(generateCode(SEED, spec, { counter: spec.counter })).toBe(oathtool(`--counter=${c}`, SEED_HEX));
    });
  }
});
