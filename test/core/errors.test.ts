import { describe, expect, it } from 'vitest';
import {
  DataError,
  DeviceError,
  ExitCode,
  exitCodeOf,
  NotFoundError,
  PolicyError,
  TokensmithError,
  UsageError,
} from '../../src/core/errors.js';

describe('typed errors', () => {
  it('map to the exit codes of the CLI contract', () => {
    expect(ExitCode).toEqual({ ok: 0, failure: 1, usage: 2, device: 3, data: 4, policy: 5 });
    expect(exitCodeOf(new UsageError('x'))).toBe(2);
    expect(exitCodeOf(new DeviceError('x'))).toBe(3);
    expect(exitCodeOf(new DataError('x'))).toBe(4);
    expect(exitCodeOf(new NotFoundError('x'))).toBe(4);
    expect(exitCodeOf(new PolicyError('x'))).toBe(5);
    expect(exitCodeOf(new TokensmithError('x'))).toBe(1);
    expect(exitCodeOf(new Error('x'))).toBe(1);
    expect(exitCodeOf('a string')).toBe(1);
  });

  it('carry a code, where and cause, and their class name', () => {
    const cause = new Error('inner');
    const e = new DataError('bad row', { code: 'bad-row', where: 'seeds.csv:3', cause });
    expect(e).toBeInstanceOf(TokensmithError);
    expect(e.name).toBe('DataError');
    expect(e.code).toBe('bad-row');
    expect(e.where).toBe('seeds.csv:3');
    expect(e.cause).toBe(cause);
    expect(new NotFoundError('no token').code).toBe('not-found');
    expect(new NotFoundError('no token').name).toBe('NotFoundError');
    expect(new UsageError('x').code).toBe('usage');
    expect(new DeviceError('x').code).toBe('device');
  });
});
