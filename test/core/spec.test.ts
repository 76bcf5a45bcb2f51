import { describe, expect, it } from 'vitest';
import { DataError, ExitCode } from '../../src/core/errors.js';
import {
  DEFAULT_SPEC,
  parseAlgorithm,
  parseKind,
  parseTokenType,
  recommendedSeedBytes,
  validateSeedLength,
  validateSpec,
} from '../../src/core/spec.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataError);
    expect((err as DataError).exitCode).toBe(ExitCode.data);
    return (err as DataError).code;
  }
  throw new Error('expected a DataError');
}

describe('validateSpec', () => {
  it('fills the defaults: TOTP, SHA-1, 6 digits, 30 s, counter 0', () => {
    expect(validateSpec({})).toEqual({ type: 'totp', algorithm: 'sha1', digits: 6, period: 30, counter: 0 });
    expect(validateSpec({})).toEqual(DEFAULT_SPEC);
  });

  it('accepts strings from flags and numbers from records', () => {
    expect(validateSpec({ type: 'HOTP', algorithm: 'SHA256', digits: '8', period: '60', counter: '42' })).toEqual({
      type: 'hotp',
      algorithm: 'sha256',
      digits: 8,
      period: 60,
      counter: 42,
    });
    expect(validateSpec({ digits: 10, period: 1, counter: 0 })).toMatchObject({ digits: 10, period: 1, counter: 0 });
  });

  it.each([4, 5, 6, 7, 8, 9, 10])('accepts %i digits', (d) => {
    expect(validateSpec({ digits: d }).digits).toBe(d);
  });

  it.each([
    [{ digits: 3 }, 'bad-digits'],
    [{ digits: 11 }, 'bad-digits'],
    [{ digits: '6.5' }, 'bad-number'],
    [{ digits: 'six' }, 'bad-number'],
    [{ digits: '' }, 'bad-number'],
    [{ period: 0 }, 'bad-period'],
    [{ period: -30 }, 'bad-period'],
    [{ period: 86401 }, 'bad-period'],
    [{ period: '30s' }, 'bad-number'],
    [{ counter: -1 }, 'bad-counter'],
    [{ counter: '1e3' }, 'bad-number'],
    [{ counter: 2 ** 60 }, 'bad-number'],
    [{ type: 'motp' }, 'bad-type'],
    [{ algorithm: 'md5' }, 'bad-algorithm'],
  ])('refuses %j with %s', (input, code) => {
    expect(codeOf(() => validateSpec(input))).toBe(code);
  });

  it('says what is wrong and carries where it came from', () => {
    try {
      validateSpec({ digits: 12 }, 'seeds.csv:7');
      expect.unreachable();
    } catch (err) {
      expect((err as DataError).message).toBe('digits must be between 4 and 10, got 12');
      expect((err as DataError).where).toBe('seeds.csv:7');
    }
  });
});

describe('parsers', () => {
  it.each(['sha1', 'SHA1', 'HMAC-SHA1', 'hmac_sha1', 'sha-1', ' Sha1 '])('parses algorithm %j as sha1', (s) => {
    expect(parseAlgorithm(s)).toBe('sha1');
  });
  it.each([
    ['HMAC-SHA256', 'sha256'],
    ['sha-512', 'sha512'],
  ])('parses algorithm %j as %s', (s, want) => {
    expect(parseAlgorithm(s)).toBe(want);
  });
  it('names the unknown algorithm, type and kind and the choices', () => {
    expect(() => parseAlgorithm('sha384')).toThrow(/unknown algorithm 'sha384': use sha1, sha256 or sha512/);
    expect(() => parseTokenType('ocra')).toThrow(/unknown token type 'ocra': use totp, hotp or dpw/);
    expect(() => parseKind('soft')).toThrow(/unknown token kind 'soft': use classic or programmable/);
  });
  it('parses kinds and types case-insensitively', () => {
    expect(parseKind('Classic')).toBe('classic');
    expect(parseKind('PROGRAMMABLE')).toBe('programmable');
    expect(parseTokenType('TOTP')).toBe('totp');
  });
});

describe('seed length', () => {
  it('accepts 1..128 bytes and refuses 0 and 129, naming the length', () => {
    expect(() => validateSeedLength(new Uint8Array(1))).not.toThrow();
    expect(() => validateSeedLength(new Uint8Array(128))).not.toThrow();
    expect(() => validateSeedLength(new Uint8Array(0))).toThrow(/got 0/);
    expect(() => validateSeedLength(new Uint8Array(129))).toThrow(/got 129/);
  });
  it('recommends the HMAC output size', () => {
    expect([recommendedSeedBytes('sha1'), recommendedSeedBytes('sha256'), recommendedSeedBytes('sha512')]).toEqual([
      20, 32, 64,
    ]);
  });
});
