/**
 * The OTP slot frame against yubikey-manager: its CRC (yubikit/core/otp.py
 * calculate_crc, CRC_OK_RESIDUAL), its flag values (yubikit/yubiotp.py
 * TKTFLAG, CFGFLAG, EXTFLAG) and a frame ykman 4.0.9 sent to the simulator
 * over pcscd + vpcd (`ykman --reader "Virtual PCD 00 00" otp hotp 2
 * GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ --digits 8 -f`, captured from its DEBUG
 * log). test/e2e/yubikey-otp-ykman.test.ts captures it live again.
 */
import { describe, expect, it } from 'vitest';
import {
  CONFIG_SIZE,
  CRC_OK_RESIDUAL,
  crc16,
  crcResidueOk,
  decodeSlotConfig,
  encodeSlotConfig,
  hotpOfConfig,
  hotpSlotConfig,
  parseStatus,
} from '../../../drivers/yubikey/otp/protocol.js';
import {
  FRAME_SIZE,
  ccidConfigApdu,
  frameReports,
  hidFrame,
  readHidFrame,
} from '../../../drivers/yubikey/otp/framing.js';
import { YubiOtpDriver } from '../../../drivers/yubikey/otp/driver.js';
import { describeFrame, isSeedBearing } from '../../../drivers/yubikey/otp/describe.js';

const RFC_SEED = Buffer.from('12345678901234567890', 'ascii');
/** The APDU ykman 4.0.9 sent for slot 2, 8 digits, counter 0, no token id, no access code (RFC 4226 test seed). */
const YKMAN_SLOT2_HOTP8 =
  '000103003a00000000000000000000000000000000373839300000313233343536373839303132333435360000000000000034600200009173000000000000';

describe('CRC-16 (ISO 13239, as the YubiKey checks it)', () => {
  it('matches the CRC-16/IBM-SDLC check value before its final complement', () => {
    // CRC-16/X-25 of "123456789" is 0x906E; the key keeps the value before the final XOR: 0x6F91.
    expect(crc16(Buffer.from('123456789'))).toBe(0x6f91);
    expect(~crc16(Buffer.from('123456789')) & 0xffff).toBe(0x906e);
  });

  it('leaves the residue 0xF0B8 over data followed by its complemented CRC, and not over a changed byte', () => {
    const data = Buffer.from('123456789');
    const inv = ~crc16(data) & 0xffff;
    const framed = Buffer.concat([data, Buffer.from([inv & 0xff, inv >> 8])]);
    expect(crc16(framed)).toBe(CRC_OK_RESIDUAL);
    framed[3] = framed[3]! ^ 1;
    expect(crcResidueOk(framed)).toBe(false);
  });
});

describe('OATH-HOTP slot configuration', () => {
  it('builds the byte-identical CONFIG2 APDU ykman sends for the same credential', () => {
    const payload = YubiOtpDriver.hotpPayload({ seed: RFC_SEED, digits: 8, counter: 0 });
    expect(Buffer.from(ccidConfigApdu(0x03, payload)).toString('hex')).toBe(YKMAN_SLOT2_HOTP8);
  });

  it('sets the yubikit flag values: TKTFLAG.OATH_HOTP 0x40 | APPEND_CR 0x20, CFGFLAG.OATH_HOTP8 0x02, EXTFLAG 0x04|0x10|0x20', () => {
    const c = hotpSlotConfig({ seed: RFC_SEED, digits: 8, counter: 0 });
    expect([c.tkt, c.cfg, c.ext]).toEqual([0x60, 0x02, 0x34]);
    expect(hotpSlotConfig({ seed: RFC_SEED, digits: 6, counter: 0 }).cfg).toBe(0);
    // A token id: OMP+TT as modhex (CFGFLAG.OATH_FIXED_MODHEX2 0x40), or all of it (0x50).
    expect(
      hotpSlotConfig({ seed: RFC_SEED, digits: 6, counter: 0, tokenId: Buffer.from('aabb00000001', 'hex') }).cfg,
    ).toBe(0x40);
    expect(
      hotpSlotConfig({
        seed: RFC_SEED,
        digits: 8,
        counter: 0,
        tokenId: Buffer.from('aabb00000001', 'hex'),
        tokenIdModhex: 'all',
      }).cfg,
    ).toBe(0x52);
  });

  it('puts key bytes 16..19 in uid[0..3] and IMF/16 big-endian in uid[4..5]', () => {
    const c = hotpSlotConfig({ seed: RFC_SEED, digits: 6, counter: 0x12340 });
    expect(Buffer.from(c.key).toString()).toBe('1234567890123456');
    expect(Buffer.from(c.uid).toString('hex')).toBe('373839301234');
    const back = hotpOfConfig(decodeSlotConfig(encodeSlotConfig(c)))!;
    expect(back.counter).toBe(0x12340);
    expect(Buffer.from(back.key)).toEqual(RFC_SEED);
  });

  it('refuses what a slot cannot hold: a counter not a multiple of 16 or too large, a key over 20 bytes', () => {
    expect(() => hotpSlotConfig({ seed: RFC_SEED, digits: 6, counter: 17 })).toThrow(/multiple of 16/);
    expect(() => hotpSlotConfig({ seed: RFC_SEED, digits: 6, counter: 0x100000 })).toThrow(/multiple of 16/);
    expect(() => hotpSlotConfig({ seed: new Uint8Array(21), digits: 6, counter: 0 })).toThrow(/1 to 20 bytes/);
  });

  it('a config record checks its own CRC: one flipped bit is refused', () => {
    const rec = encodeSlotConfig(hotpSlotConfig({ seed: RFC_SEED, digits: 6, counter: 0 }));
    expect(rec.length).toBe(CONFIG_SIZE);
    expect(crcResidueOk(rec)).toBe(true);
    rec[30]! ^= 0x80;
    expect(() => decodeSlotConfig(rec)).toThrow(/CRC/);
  });
});

describe('HID framing', () => {
  it('a 70-byte frame: payload padded to 64, slot, CRC little-endian, 3 zeros; a damaged frame fails its CRC', () => {
    const payload = YubiOtpDriver.hotpPayload({ seed: RFC_SEED, digits: 8, counter: 0 });
    const frame = hidFrame(0x03, payload);
    expect(frame.length).toBe(FRAME_SIZE);
    expect(frame[64]).toBe(0x03);
    expect(frame[65]! | (frame[66]! << 8)).toBe(crc16(frame.subarray(0, 64)));
    expect(readHidFrame(frame).slotCommand).toBe(3);
    frame[10]! ^= 1;
    expect(() => readHidFrame(frame)).toThrow(/CRC/);
  });

  it('writes reports of 7 bytes + (0x80 | part), skipping all-zero parts except the first and the last', () => {
    const reports = frameReports(hidFrame(0x10, new Uint8Array(0)));
    // The serial request: all zero but the slot byte in part 9 (bytes 63..69): parts 0 and 9 only.
    expect(reports.map((r) => r[7])).toEqual([0x80, 0x89]);
    const full = frameReports(hidFrame(0x03, YubiOtpDriver.hotpPayload({ seed: RFC_SEED, digits: 8, counter: 0 })));
    expect(full.every((r) => r.length === 8 && (r[7]! & 0x80) === 0x80)).toBe(true);
    expect(full.map((r) => r[7]! & 0x7f)).toEqual([0, 2, 3, 4, 5, 6, 7, 9]);
  });

  it('status bytes: version, sequence, slot bits from the touch level', () => {
    expect(parseStatus(Uint8Array.from([5, 4, 3, 7, 0x0a, 0]))).toMatchObject({
      version: [5, 4, 3],
      sequence: 7,
      slot1Configured: false,
      slot2Configured: true,
    });
  });

  it('the describer names the frames, and the seed-bearing parts are the ones holding key bytes', () => {
    const apdu = Buffer.from(YKMAN_SLOT2_HOTP8, 'hex');
    expect(describeFrame(apdu, 'command')).toMatch(/CONFIG slot 2: OATH-HOTP 8 digits, counter 0/);
    expect(describeFrame(apdu, 'command')).not.toMatch(/3132|1234/);
    expect(isSeedBearing(apdu)).toBe(true);
    const reports = frameReports(hidFrame(0x03, apdu.subarray(5)));
    expect(reports.filter(isSeedBearing).map((r) => r[7]! & 0x7f)).toEqual([2, 3, 4, 5, 6, 7, 9]);
    expect(describeFrame(new Uint8Array(0), 'command')).toBe('HID read feature report');
  });
});

describe("isOtpFrame: which frames of the yubikey family are the OTP application's", () => {
  it('takes OTP SELECT, INS 01 with a slot command, HID reports; leaves OATH SELECT and OATH PUT (INS 01, P1 00) to the OATH describer', async () => {
    const { isOtpFrame } = await import('../../../drivers/yubikey/otp/index.js');
    const hex = (h: string) => Buffer.from(h.replace(/ /g, ''), 'hex');
    expect(isOtpFrame(hex('00 A4 04 00 07 A0 00 00 05 27 20 01'), 'command')).toBe(true);
    expect(isOtpFrame(hex(YKMAN_SLOT2_HOTP8), 'command')).toBe(true);
    expect(isOtpFrame(hex('00 01 10 00 00'), 'command')).toBe(true);
    expect(isOtpFrame(new Uint8Array(0), 'command')).toBe(true);
    expect(isOtpFrame(hex('00 00 00 00 00 00 00 80'), 'command')).toBe(true);
    // A report whose byte 4 happens to make it look like an APDU's Lc is still a report.
    expect(isOtpFrame(hex('E1 63 00 00 03 00 00 80'), 'command')).toBe(true);
    expect(isOtpFrame(hex('05 04 03 00 00 00 90 00'), 'response', hex('00 A4 04 00 07 A0 00 00 05 27 20 01'))).toBe(
      true,
    );
    expect(isOtpFrame(hex('00 A4 04 00 07 A0 00 00 05 27 21 01'), 'command')).toBe(false);
    expect(isOtpFrame(hex('00 01 00 00 05 71 03 61 62 63'), 'command')).toBe(false);
    expect(isOtpFrame(hex('90 00'), 'response', hex('00 01 00 00 05 71 03 61 62 63'))).toBe(false);
  });
});
