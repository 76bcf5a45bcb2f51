import { describe, expect, it } from 'vitest';
import { codeAtStep, findCode, findConsecutive, generateCode, stepAt } from '../../src/core/otp.js';
import type { Algorithm, TokenSpec } from '../../src/core/spec.js';

// RFC 6238 appendix B / RFC 4226 appendix D: labelled test seeds, never real tokens'.
const SEEDS: Record<Algorithm, Buffer> = {
  sha1: Buffer.from('12345678901234567890', 'ascii'),
  sha256: Buffer.from('12345678901234567890123456789012', 'ascii'),
  sha512: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
};
const RFC6238: [number, Record<Algorithm, string>][] = [
  [59, { sha1: '94287082', sha256: '46119246', sha512: '90693936' }],
  [1111111109, { sha1: '07081804', sha256: '68084774', sha512: '25091201' }],
  [1111111111, { sha1: '14050471', sha256: '67062674', sha512: '99943326' }],
  [1234567890, { sha1: '89005924', sha256: '91819424', sha512: '93441116' }],
  [2000000000, { sha1: '69279037', sha256: '90698825', sha512: '38618901' }],
  [20000000000, { sha1: '65353130', sha256: '77737706', sha512: '47863826' }],
];
const RFC4226 = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489'];

const totp = (algorithm: Algorithm, digits = 8, period = 30): TokenSpec => ({
  type: 'totp',
  algorithm,
  digits,
  period,
  counter: 0,
});
const hotp = (counter = 0, digits = 6): TokenSpec => ({ type: 'hotp', algorithm: 'sha1', digits, period: 30, counter });

describe('generateCode', () => {
  for (const [t, codes] of RFC6238) {
    for (const alg of ['sha1', 'sha256', 'sha512'] as const) {
      it(`matches RFC 6238 for ${alg} at T=${t}`, () => {
        expect(generateCode(SEEDS[alg], totp(alg), { at: new Date(t * 1000) })).toBe(codes[alg]);
      });
    }
  }

  it('matches RFC 4226 for HOTP counters 0..9, from the spec counter or an explicit one', () => {
    for (let c = 0; c < RFC4226.length; c++) {
      expect(generateCode(SEEDS.sha1, hotp(c))).toBe(RFC4226[c]);
      expect(generateCode(SEEDS.sha1, hotp(0), { counter: c })).toBe(RFC4226[c]);
    }
  });

  it('applies drift in steps and the period', () => {
    const spec = totp('sha1');
    // T=59 is step 1; with drift +1 the token shows the step-2 code (T=60..89).
    expect(generateCode(SEEDS.sha1, spec, { at: new Date(59_000), driftSteps: 1 })).toBe(
      generateCode(SEEDS.sha1, spec, { at: new Date(60_000) }),
    );
    expect(generateCode(SEEDS.sha1, spec, { at: new Date(59_000), driftSteps: -1 })).toBe(
      codeAtStep(SEEDS.sha1, spec, 0),
    );
    // A 60 s period uses step floor(t/60).
    expect(generateCode(SEEDS.sha1, totp('sha1', 8, 60), { at: new Date(1111111109_000) })).toBe(
      codeAtStep(SEEDS.sha1, spec, Math.floor(1111111109 / 60)),
    );
  });

  it('keeps leading zeros and honours 4..10 digits', () => {
    expect(generateCode(SEEDS.sha1, totp('sha1', 8), { at: new Date(1111111109_000) })).toBe('07081804');
    for (let d = 4; d <= 10; d++)
      expect(generateCode(SEEDS.sha1, totp('sha1', d), { at: new Date(59_000) })).toMatch(new RegExp(`^\\d{${d}}$`));
    expect(generateCode(SEEDS.sha1, totp('sha1', 6), { at: new Date(59_000) })).toBe('287082');
  });

  it('does not keep a reference to the caller seed buffer', () => {
    const seed = Buffer.from(SEEDS.sha1);
    const spec = totp('sha1');
    const before = generateCode(seed, spec, { at: new Date(59_000) });
    seed.fill(0);
    expect(generateCode(SEEDS.sha1, spec, { at: new Date(59_000) })).toBe(before);
  });
});

describe('stepAt', () => {
  it('floors time over the period', () => {
    expect(stepAt(new Date(59_000), 30)).toBe(1);
    expect(stepAt(60_000, 30)).toBe(2);
    expect(stepAt(59_999, 60)).toBe(0);
  });
});

describe('findCode', () => {
  const spec = totp('sha1', 6);
  const at = new Date(1_700_000_000_000);
  const centre = stepAt(at, 30);
  const code = (step: number) => codeAtStep(SEEDS.sha1, spec, step);

  it('finds the current code with offset 0', () => {
    expect(findCode(SEEDS.sha1, spec, code(centre), { at, window: 0 })).toEqual({ step: centre, offset: 0 });
  });

  it('finds codes within the window on both sides, with signed offsets', () => {
    expect(findCode(SEEDS.sha1, spec, code(centre + 2), { at, window: 2 })).toEqual({ step: centre + 2, offset: 2 });
    expect(findCode(SEEDS.sha1, spec, code(centre - 2), { at, window: 2 })).toEqual({ step: centre - 2, offset: -2 });
  });

  it('misses codes outside the window', () => {
    expect(findCode(SEEDS.sha1, spec, code(centre + 3), { at, window: 2 })).toBeNull();
    expect(findCode(SEEDS.sha1, spec, code(centre - 3), { at, window: 2 })).toBeNull();
  });

  it('defaults to a window of 1', () => {
    expect(findCode(SEEDS.sha1, spec, code(centre - 1), { at })).toEqual({ step: centre - 1, offset: -1 });
    expect(findCode(SEEDS.sha1, spec, code(centre + 2), { at })).toBeNull();
  });

  it('centres on the known drift', () => {
    // A token 5 steps fast: its current code is at centre+5, which is offset 0 from the drifted centre.
    expect(findCode(SEEDS.sha1, spec, code(centre + 5), { at, driftSteps: 5, window: 0 })).toEqual({
      step: centre + 5,
      offset: 0,
    });
    expect(findCode(SEEDS.sha1, spec, code(centre + 5), { at, window: 1 })).toBeNull();
  });

  it('refuses codes of the wrong length or with non-digits, and tolerates surrounding spaces', () => {
    const c = code(centre);
    expect(findCode(SEEDS.sha1, spec, ` ${c} `, { at })).toEqual({ step: centre, offset: 0 });
    expect(findCode(SEEDS.sha1, spec, c.slice(1), { at })).toBeNull();
    expect(findCode(SEEDS.sha1, spec, `${c}0`, { at })).toBeNull();
    expect(findCode(SEEDS.sha1, spec, 'abcdef', { at })).toBeNull();
  });

  it('searches HOTP counters ahead only', () => {
    const h = hotp(3);
    expect(findCode(SEEDS.sha1, h, RFC4226[3]!, { window: 0 })).toEqual({ step: 3, offset: 0 });
    expect(findCode(SEEDS.sha1, h, RFC4226[6]!, { window: 3 })).toEqual({ step: 6, offset: 3 });
    expect(findCode(SEEDS.sha1, h, RFC4226[7]!, { window: 3 })).toBeNull();
    expect(findCode(SEEDS.sha1, h, RFC4226[2]!, { window: 5 })).toBeNull(); // behind the counter
    expect(findCode(SEEDS.sha1, h, RFC4226[1]!, { counter: 0, window: 2 })).toEqual({ step: 1, offset: 1 });
  });
});

describe('findConsecutive', () => {
  const spec = totp('sha1', 6);
  const at = new Date(1_700_000_000_000);
  const centre = stepAt(at, 30);
  const code = (step: number) => codeAtStep(SEEDS.sha1, spec, step);

  it('finds a token that drifted ahead or behind, reporting the step of the second code', () => {
    expect(findConsecutive(SEEDS.sha1, spec, [code(centre + 40), code(centre + 41)], { at })).toEqual({
      step: centre + 41,
      offset: 41,
    });
    expect(findConsecutive(SEEDS.sha1, spec, [code(centre - 40), code(centre - 39)], { at })).toEqual({
      step: centre - 39,
      offset: -39,
    });
    expect(findConsecutive(SEEDS.sha1, spec, [code(centre), code(centre + 1)], { at })).toEqual({
      step: centre + 1,
      offset: 1,
    });
  });

  it('refuses codes that are not consecutive, in the wrong order, or outside the window', () => {
    expect(findConsecutive(SEEDS.sha1, spec, [code(centre + 10), code(centre + 12)], { at })).toBeNull();
    expect(findConsecutive(SEEDS.sha1, spec, [code(centre + 11), code(centre + 10)], { at })).toBeNull();
    expect(findConsecutive(SEEDS.sha1, spec, [code(centre + 20), code(centre + 21)], { at, window: 10 })).toBeNull();
    expect(findConsecutive(SEEDS.sha1, spec, [code(centre + 10), code(centre + 11)], { at, window: 10 })).toEqual({
      step: centre + 11,
      offset: 11,
    });
  });

  it('resynchronises HOTP from the stored counter', () => {
    expect(findConsecutive(SEEDS.sha1, hotp(2), [RFC4226[6]!, RFC4226[7]!])).toEqual({ step: 7, offset: 5 });
    expect(findConsecutive(SEEDS.sha1, hotp(2), [RFC4226[0]!, RFC4226[1]!])).toBeNull(); // behind the counter
  });
});
