/**
 * LinOTP's day password against LinOTP's own vectors
 * (LinOTP/LinOTP linotp/tests/functional/test_getotp.py: key
 * "12341234123412341234123412341234", 2012-05-16 -> 427701, 05-17 -> 028193, 05-18 -> 857788).
 */
import { describe, expect, it } from 'vitest';
import { dpwCode, dpwDateString } from '../../src/core/dpw.js';
import { findCode, findConsecutive, generateCode } from '../../src/core/otp.js';
import type { TokenSpec } from '../../src/core/spec.js';

const KEY = Buffer.from('12341234123412341234123412341234', 'ascii');
const DPW: TokenSpec = { type: 'dpw', algorithm: 'sha1', digits: 6, period: 86400, counter: 0 };
// Local noon: the same calendar day in any time zone the tests run in.
const day = (y: number, m: number, d: number) => new Date(y, m - 1, d, 12, 0, 0);

describe('DPW (LinOTP Tagespasswort)', () => {
  it('equals LinOTP getotp / getmultiotp vectors', () => {
    expect(dpwCode(KEY, day(2012, 5, 16))).toBe('427701');
    expect(dpwCode(KEY, day(2012, 5, 17))).toBe('028193');
    expect(dpwCode(KEY, day(2012, 5, 18))).toBe('857788');
  });

  it('is not a TOTP over the day number (what tokensmith computed before)', () => {
    const asTotp = generateCode(KEY, { ...DPW, type: 'totp' }, { at: day(2012, 5, 16) });
    expect(asTotp).not.toBe('427701');
    expect(generateCode(KEY, DPW, { at: day(2012, 5, 16) })).toBe('427701');
  });

  it('hashes the key text as written: upper-case hex is another key', () => {
    expect(dpwCode(Buffer.from('abcdef12', 'ascii'), day(2012, 5, 16))).not.toBe(
      dpwCode(Buffer.from('ABCDEF12', 'ascii'), day(2012, 5, 16)),
    );
  });

  it('writes the date ddmmyy in local time, and honours the code length', () => {
    expect(dpwDateString(day(2012, 5, 6))).toBe('060512');
    expect(dpwCode(KEY, day(2012, 5, 16), 8)).toMatch(/^\d{8}$/);
  });

  it("verifies today's code only; resynchronising is refused", () => {
    expect(findCode(KEY, DPW, '427701', { at: day(2012, 5, 16), window: 5 })).toMatchObject({ offset: 0 });
    expect(findCode(KEY, DPW, '427701', { at: day(2012, 5, 17), window: 5 })).toBeNull();
    expect(() => findConsecutive(KEY, DPW, ['427701', '028193'], { at: day(2012, 5, 16) })).toThrow(/day password/);
  });
});
