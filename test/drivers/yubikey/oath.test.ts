// @module-tag subprocess
/**
 * The OATH driver against the OATH simulator in memory: codes equal
 * oathtool's (RFC 6238/4226) for the same seed and time, the access password
 * is one VALIDATE, a long LIST arrives through SEND REMAINING, and a PUT is
 * redacted in a recording.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateCode } from '../../../src/core/otp.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import { RecordingTransport } from '../../../src/transport/record.js';
import { OathDriver, WrongPasswordError, flashCredential } from '../../../drivers/yubikey/oath-driver.js';
import { OathSimulator } from '../../../drivers/yubikey/oath-simulator.js';
import {
  deriveAccessKey,
  formatCredentialName,
  parseCredentialName,
  putApdu,
} from '../../../drivers/yubikey/oath-protocol.js';
import { describeFrame, isSeedBearing } from '../../../drivers/yubikey/describe.js';
import { titled, toolsMissing } from '../../helpers/tools.js';

const T = 1_767_225_600_000; // 2026-01-01T00:00:00Z
// The oathtool comparisons skip outside CI without oathtool, naming why (the RFC codes are still checked); CI fails.
const noOathtool = toolsMissing('the oathtool comparisons', 'oathtool');

function rig(opts: { frameBytes?: number } = {}) {
  const sim = new OathSimulator({ serial: '16000042', frameBytes: opts.frameBytes });
  const transport = new MemoryTransport(sim);
  return { sim, transport, driver: new OathDriver(transport, { now: () => T }) };
}

function oathtoolCode(seed: Uint8Array, args: string[]): string {
  const r = spawnSync('oathtool', [...args, Buffer.from(seed).toString('hex')], { encoding: 'utf8' });
  return r.stdout.trim();
}

/** Writes one TOTP credential with a fresh random secret to a fresh simulated key; the secret and the key's code now. */
async function flashTotp(algorithm: 'sha1' | 'sha256' | 'sha512', bytes: number, digits: number, period = 30) {
  const secret = new Uint8Array(randomBytes(bytes));
  const r = await flashCredential(rig().driver, undefined, async () => ({
    name: 'x',
    type: 'totp',
    algorithm,
    digits,
    period,
    secret,
  }));
  return { secret, code: r.codeNow };
}

const CASES = [
  ['a 10-byte secret (padded)', 'sha1', 10, 6],
  ['a 100-byte secret (hashed first)', 'sha1', 100, 6],
  ['SHA-512, 7 digits', 'sha512', 64, 7],
  ['SHA-512, a 150-byte secret', 'sha512', 150, 8],
] as const;

describe('YubiKey OATH driver and simulator', () => {
  it('writes TOTP SHA-1/6/30, TOTP SHA-256/8/60 and HOTP, and the key codes equal the RFC codes', async () => {
    const { driver } = rig();
    const s1 = new Uint8Array(randomBytes(20));
    const s2 = new Uint8Array(randomBytes(32));
    const s3 = new Uint8Array(randomBytes(20));
    const a = await flashCredential(driver, undefined, async () => ({
      name: 'alice',
      type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      secret: s1,
    }));
    const b = await flashCredential(driver, undefined, async () => ({
      name: formatCredentialName({ issuer: 'Corp', account: 'bob', period: 60, type: 'totp' }),
      type: 'totp',
      algorithm: 'sha256',
      digits: 8,
      period: 60,
      secret: s2,
    }));
    await flashCredential(driver, undefined, async () => ({
      name: 'carol',
      type: 'hotp',
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      secret: s3,
      counter: 5,
    }));
    const at = new Date(T);
    expect(a.codeNow).toBe(
      generateCode(s1, { type: 'totp', algorithm: 'sha1', digits: 6, period: 30, counter: 0 }, { at }),
    );
    expect(b.codeNow).toBe(
      generateCode(s2, { type: 'totp', algorithm: 'sha256', digits: 8, period: 60, counter: 0 }, { at }),
    );
    expect(b.credentialCount).toBe(2);
    expect(await driver.calculate('carol', 'hotp', 30)).toBe(
      generateCode(s3, { type: 'hotp', algorithm: 'sha1', digits: 6, period: 30, counter: 5 }),
    );
    expect(await driver.calculate('carol', 'hotp', 30)).toBe(
      generateCode(s3, { type: 'hotp', algorithm: 'sha1', digits: 6, period: 30, counter: 6 }),
    );
    const all = await driver.calculateAll();
    expect(all.map((e) => [e.name, e.kind])).toEqual([
      ['alice', 'code'],
      ['60/Corp:bob', 'code'],
      ['carol', 'hotp'],
    ]);
    expect(all[0]!.code).toBe(a.codeNow);
  });

  it.each(CASES)('%s: the key code equals the RFC code', async (_what, algorithm, bytes, digits) => {
    const { secret, code } = await flashTotp(algorithm, bytes, digits);
    expect(code).toBe(
      generateCode(secret, { type: 'totp', algorithm, digits, period: 30, counter: 0 }, { at: new Date(T) }),
    );
  });

  it
    .skipIf(noOathtool !== null)
    .each([
      ['TOTP SHA-1/6/30', 'sha1', 20, 6, 30],
      ['TOTP SHA-256/8/60', 'sha256', 32, 8, 60],
      ...CASES.map(([what, algorithm, bytes, digits]) => [what, algorithm, bytes, digits, 30] as const),
    ] as const)(
    titled("%s: the key code equals oathtool's", noOathtool),
    async (_what, algorithm, bytes, digits, period) => {
      const { secret, code } = await flashTotp(algorithm, bytes, digits, period);
      const args = [`--totp=${algorithm}`, '-d', String(digits), '-s', String(period), '-N', '@1767225600'];
      expect(code).toBe(oathtoolCode(secret, args));
    },
  );

  it('an access password: 6982 before VALIDATE, a wrong password is refused after one VALIDATE, the right one opens', async () => {
    const { sim, transport } = rig();
    sim.setAccessKey(deriveAccessKey('correct horse', sim.deviceSalt));
    const locked = new OathDriver(transport);
    const info = await locked.select();
    expect(info.passwordSet).toBe(true);
    await expect(locked.list()).rejects.toMatchObject({ code: 'password-required', exitCode: 3 });
    const before = transport.commandCount;
    await expect(new OathDriver(transport).open('wrong')).rejects.toBeInstanceOf(WrongPasswordError);
    expect(transport.commandCount - before).toBe(2); // SELECT + one VALIDATE
    const open = new OathDriver(transport);
    await open.open('correct horse');
    expect(await open.list()).toEqual([]);
  });

  it('a LIST longer than a frame comes in pieces through SEND REMAINING (61xx, A5)', async () => {
    const { driver, transport } = rig({ frameBytes: 40 });
    await driver.open();
    for (let i = 0; i < 10; i++)
      await driver.put({
        name: `account-${i}@example.com`,
        type: 'totp',
        algorithm: 'sha1',
        digits: 6,
        secret: new Uint8Array(20).fill(i),
      });
    const before = transport.commandCount;
    const listed = await driver.list();
    expect(listed).toHaveLength(10);
    expect(listed[9]!.name).toBe('account-9@example.com');
    expect(transport.commandCount - before).toBeGreaterThan(5);
  });

  it('answers any other application with 6A82 (ykman falls back)', async () => {
    const { sim } = rig();
    const mgmt = sim.process(
      Uint8Array.from([0x00, 0xa4, 0x04, 0x00, 0x08, 0xa0, 0x00, 0x00, 0x05, 0x27, 0x47, 0x11, 0x17]),
    );
    expect(Buffer.from(mgmt).toString('hex')).toBe('6a82');
  });

  it('PUT carries the secret: seed-bearing, so a recording keeps only its header; the description names no secret', async () => {
    const secret = new Uint8Array(20).fill(0xab);
    const put = putApdu({ name: 'alice', type: 'totp', algorithm: 'sha1', digits: 6, secret, touch: true });
    expect(isSeedBearing(put)).toBe(true);
    expect(describeFrame(put, 'command')).toBe(
      "PUT credential 'alice': totp, sha1, 6 digits, 20-byte key, touch required",
    );
    const { sim } = rig();
    const rec = new RecordingTransport(new MemoryTransport(sim), { redact: isSeedBearing });
    await flashCredential(new OathDriver(rec), undefined, async () => ({
      name: 'alice',
      type: 'totp',
      algorithm: 'sha1',
      digits: 6,
      period: 30,
      secret,
    }));
    const putFrame = rec.frames.find((f) => f.dir === 'command' && f.bytes[1] === 0x01)!;
    expect(putFrame.redacted).toBe(true);
    expect(Buffer.from(putFrame.bytes).toString('hex')).not.toContain('abab');
  });

  it('credential names carry the period and issuer the way ykman reads them', () => {
    expect(formatCredentialName({ issuer: 'Corp', account: 'bob', period: 60, type: 'totp' })).toBe('60/Corp:bob');
    expect(formatCredentialName({ account: 'bob', period: 60, type: 'hotp' })).toBe('bob');
    expect(parseCredentialName('60/Corp:bob', 'totp')).toEqual({ period: 60, issuer: 'Corp', account: 'bob' });
    expect(parseCredentialName('Corp:bob', 'hotp')).toEqual({ period: 30, issuer: 'Corp', account: 'bob' });
  });
});
