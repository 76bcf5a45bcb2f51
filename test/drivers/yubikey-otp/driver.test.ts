// @module-tag subprocess
/**
 * The OTP driver against the simulator, over both links: HID feature reports
 * (an in-memory HID device) and CCID APDUs (MemoryTransport). Codes of a
 * programmed slot are checked against oathtool.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeOf } from '../../../src/core/errors.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import { YubiOtpDriver } from '../../../drivers/yubikey/otp/driver.js';
import { frameReports, hidFrame } from '../../../drivers/yubikey/otp/framing.js';
import { CcidOtpLink, HidOtpLink } from '../../../drivers/yubikey/otp/link.js';
import { YubiOtpSimulator } from '../../../drivers/yubikey/otp/simulator.js';
import { which } from '../../helpers/pcsc.js';
import { hidPortOf } from './helpers.js';
import { titled, toolsMissing } from '../../helpers/tools.js';

const RFC_SEED = Buffer.from('12345678901234567890', 'ascii');

const links = {
  hid: (sim: YubiOtpSimulator) => new HidOtpLink(hidPortOf(sim)),
  ccid: (sim: YubiOtpSimulator) => new CcidOtpLink(new MemoryTransport(sim)),
};

// Without oathtool outside CI the comparison skips, naming why (the sequence is still checked); in CI it fails the file.
const noOathtool = toolsMissing('the oathtool comparison', 'oathtool');

function oathtoolCodes(seedHex: string, digits: number, counter: number, n: number): string[] {
  const r = spawnSync(
    which('oathtool')!,
    ['--hotp', `--digits=${digits}`, `--counter=${counter}`, `--window=${n - 1}`, seedHex],
    {
      encoding: 'utf8',
    },
  );
  return r.stdout.trim().split('\n');
}

for (const [name, linkOf] of Object.entries(links)) {
  describe(`YubiKey OTP driver over ${name}`, () => {
    it('reads the status and the serial', async () => {
      const sim = new YubiOtpSimulator({ serial: '9876543' });
      const info = await new YubiOtpDriver(linkOf(sim)).readInfo();
      expect(info).toMatchObject({
        serial: 9876543,
        link: name,
        status: { version: [5, 4, 3], sequence: 0, slot1Configured: false, slot2Configured: false },
      });
    });

    it('programs OATH-HOTP in a slot: the sequence moves, and each press types an 8-digit code and moves the counter', async () => {
      const sim = new YubiOtpSimulator();
      const after = await new YubiOtpDriver(linkOf(sim)).programHotp(1, { seed: RFC_SEED, digits: 8, counter: 32 });
      expect(after).toMatchObject({ sequence: 1, slot1Configured: true, slot2Configured: false });
      expect(sim.state().slots[0]).toMatchObject({
        hotp: true,
        digits: 8,
        counter: 32,
        keyHex: RFC_SEED.toString('hex'),
      });
      const codes = [sim.press(1), sim.press(1), sim.press(1)];
      expect(codes.every((c) => /^\d{8}$/.test(c))).toBe(true);
      expect(sim.state().slots[0]!.counter).toBe(35);
    });

    it.skipIf(noOathtool !== null)(
      titled("the codes an OATH-HOTP slot types equal oathtool's from the counter on", noOathtool),
      async () => {
        const sim = new YubiOtpSimulator();
        await new YubiOtpDriver(linkOf(sim)).programHotp(1, { seed: RFC_SEED, digits: 8, counter: 32 });
        const codes = [sim.press(1), sim.press(1), sim.press(1)];
        expect(codes).toEqual(oathtoolCodes(RFC_SEED.toString('hex'), 8, 32, 3));
      },
    );

    it('RFC 4226 appendix D: a 6-digit slot at counter 0 types 755224, then 287082', async () => {
      const sim = new YubiOtpSimulator();
      await new YubiOtpDriver(linkOf(sim)).programHotp(2, { seed: RFC_SEED, digits: 6, counter: 0 });
      expect([sim.press(2), sim.press(2)]).toEqual(['755224', '287082']);
    });

    it('a protected slot: the wrong access code is one refused write (exit 3, nothing written); the right one writes', async () => {
      const sim = new YubiOtpSimulator();
      const code = Buffer.from('010203040506', 'hex');
      const driver = new YubiOtpDriver(linkOf(sim));
      await driver.programHotp(1, { seed: RFC_SEED, digits: 6, counter: 0, newAccessCode: code });
      const before = sim.state();
      const wrong = await driver
        .programHotp(1, { seed: Buffer.alloc(20, 7), digits: 8, counter: 0 }, Buffer.from('0102030405ff', 'hex'))
        .catch((e: unknown) => e);
      expect(exitCodeOf(wrong)).toBe(ExitCode.device);
      expect((wrong as { code: string }).code).toBe('access-code-rejected');
      expect(sim.state()).toMatchObject({
        writes: before.writes,
        rejected: before.rejected + 1,
        sequence: before.sequence,
      });
      expect(sim.state().slots[0]).toEqual(before.slots[0]);
      const none = await driver
        .programHotp(1, { seed: Buffer.alloc(20, 7), digits: 8, counter: 0 })
        .catch((e: unknown) => e);
      expect((none as Error).message).toMatch(/give --access-code/);
      await driver.programHotp(1, { seed: Buffer.alloc(20, 7), digits: 8, counter: 0 }, code);
      expect(sim.state().slots[0]).toMatchObject({ digits: 8, accessCodeSet: false });
    });
  });
}

describe('YubiKey OTP simulator, HID side', () => {
  it('drops a frame whose CRC does not check: no write, the sequence stays', async () => {
    const sim = new YubiOtpSimulator();
    const frame = hidFrame(0x01, YubiOtpDriver.hotpPayload({ seed: RFC_SEED, digits: 6, counter: 0 }));
    frame[25]! ^= 0x01;
    for (const r of frameReports(frame)) sim.sendFeatureReport(r);
    expect(sim.state()).toMatchObject({ frameErrors: 1, writes: 0, sequence: 0 });
    expect(sim.getFeatureReport()[4]).toBe(0);
  });

  it('refuses a config record with a bad inner CRC even when the frame CRC is right', async () => {
    const sim = new YubiOtpSimulator();
    const payload = YubiOtpDriver.hotpPayload({ seed: RFC_SEED, digits: 6, counter: 0 });
    payload[30]! ^= 0x01;
    for (const r of frameReports(hidFrame(0x01, payload))) sim.sendFeatureReport(r);
    expect(sim.state()).toMatchObject({ frameErrors: 0, rejected: 1, writes: 0 });
    expect((await new YubiOtpDriver(new HidOtpLink(hidPortOf(sim))).status()).slot1Configured).toBe(false);
  });
});
