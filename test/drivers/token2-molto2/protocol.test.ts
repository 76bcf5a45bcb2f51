import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sm4 } from '../../../src/core/sm4.js';
import {
  FACTORY_CUSTOMER_KEY,
  buildChangeCustomerKey,
  buildDeleteSeed,
  buildGetInfo,
  buildLockScreen,
  buildReadProfile,
  buildSyncTime,
  buildUnlockScreen,
  buildWriteConfig,
  buildWriteSeed,
  buildWriteTitle,
  configBody,
  deriveSm4Key,
  encodeProfileBlock,
  parseCustomerKey,
  parseProfileBlock,
  statusWordMeaning,
  triesLeft,
} from '../../../drivers/token2-molto2/protocol.js';
import {
  openChangeKeyBody,
  openSeedBody,
  openTitleBody,
  parseCommand,
  parseConfigBody,
} from '../../../drivers/token2-molto2/device-side.js';
import { toHexUpper as hex } from '../../helpers/bytes.js';

const factory = new Sm4(deriveSm4Key(FACTORY_CUSTOMER_KEY));

describe('Molto2 protocol: fact sheet facts', () => {
  it("derives the factory SM4 key: SHA-1('TOKEN2MOLTO1-KEY')[..16] = 099250FDB017F442DA429ECBBEE17F79", () => {
    expect(hex(deriveSm4Key(FACTORY_CUSTOMER_KEY))).toBe('099250FDB017F442DA429ECBBEE17F79');
    expect(hex(deriveSm4Key(parseCustomerKey('544F4B454E324D4F4C544F312D4B4559')))).toBe(
      '099250FDB017F442DA429ECBBEE17F79',
    );
    expect(hex(deriveSm4Key(parseCustomerKey('TOKEN2MOLTO1-KEY')))).toBe('099250FDB017F442DA429ECBBEE17F79');
  });

  it('plain commands are the documented bytes', () => {
    expect(hex(buildGetInfo())).toBe('8041000000');
    expect(hex(buildReadProfile(3))).toBe('804100030170');
    expect(hex(buildDeleteSeed(0x42))).toBe('80E6004200');
    expect(hex(buildLockScreen())).toBe('80D80C0200');
    expect(hex(buildUnlockScreen())).toBe('80D80C020101');
  });

  it('config body: 81 14 1F 01 dd 0F 04 t 86 09 0A 01 aa 0B 01 nn 0D 01 ss, MAC as OpenSSL SM4-CBC computes it', () => {
    const cfg = { displayTimeout: 60, time: 0x65432100, algorithm: 'sha256', digits: 8, period: 30 } as const;
    expect(hex(configBody(cfg))).toBe('81141F01020F0465432100' + '8609' + '0A0102' + '0B0108' + '0D011E');
    const apdu = buildWriteConfig(factory, 3, cfg);
    expect(hex(apdu.subarray(0, 5))).toBe('84D401031A');
    const input = Buffer.concat([Buffer.from([0x80, 0xd4, 0x01, 0x03, 22]), configBody(cfg)]);
    const padded = Buffer.concat([input, Buffer.from([0x80, 0, 0, 0, 0])]);
    const c = createCipheriv('sm4-cbc', deriveSm4Key(FACTORY_CUSTOMER_KEY), Buffer.alloc(16));
    c.setAutoPadding(false);
    const enc = Buffer.concat([c.update(padded), c.final()]);
    expect(hex(apdu.subarray(27))).toBe(hex(enc.subarray(enc.length - 16, enc.length - 12)));
    expect(parseCommand(apdu, factory).macOk).toBe(true);
    expect(parseCommand(apdu, new Sm4(deriveSm4Key(parseCustomerKey('another-key')))).macOk).toBe(false);
    expect(parseConfigBody(parseCommand(apdu).body)).toEqual({
      kind: 'full',
      displayTimeoutCode: 2,
      time: 0x65432100,
      algorithmCode: 2,
      digits: 8,
      periodCode: 0x1e,
    });
  });

  it('time sync is 84 D4 01 pp with 81 06 0F 04 t', () => {
    const apdu = buildSyncTime(factory, 99, 0x01020304);
    expect(hex(apdu.subarray(0, 13))).toBe('84D401630C' + '81060F0401020304');
    expect(parseConfigBody(parseCommand(apdu, factory).body)).toEqual({ kind: 'time', time: 0x01020304 });
  });

  it('seed: SM4-ECB of seed || 80 00.. under the customer key; the all-zero seed clears (zero padding)', () => {
    const seed = Buffer.from('12345678901234567890', 'ascii');
    const apdu = buildWriteSeed(factory, 7, seed);
    expect(hex(apdu.subarray(0, 5))).toBe('84C5010724'); // 32 bytes + MAC
    const c = parseCommand(apdu, factory);
    expect(c.macOk).toBe(true);
    expect(Buffer.from(openSeedBody(factory, c.body) as Uint8Array).toString('ascii')).toBe('12345678901234567890');
    const ecb = createCipheriv('sm4-ecb', deriveSm4Key(FACTORY_CUSTOMER_KEY), null);
    ecb.setAutoPadding(false);
    expect(hex(c.body)).toBe(
      hex(Buffer.concat([ecb.update(Buffer.concat([seed, Buffer.from([0x80]), Buffer.alloc(11)])), ecb.final()])),
    );
    const clear = parseCommand(buildWriteSeed(factory, 7, new Uint8Array(20)), factory);
    expect(clear.body.length).toBe(32);
    expect(openSeedBody(factory, clear.body)).toBe('clear');
  });

  it('title: up to 12 bytes, padded to one block', () => {
    const apdu = buildWriteTitle(factory, 3, 'VPN');
    expect(hex(apdu.subarray(0, 5))).toBe('84D5000314');
    expect(openTitleBody(factory, parseCommand(apdu, factory).body)).toBe('VPN');
    expect(() => buildWriteTitle(factory, 3, 'thirteen-long')).toThrow(/1 to 12 bytes/);
  });

  it('customer key change carries 00 || SHA-1(new)[..16] || 80 00.. encrypted under the old key', () => {
    const apdu = buildChangeCustomerKey(factory, parseCustomerKey('new-secret-key'));
    expect(hex(apdu.subarray(0, 5))).toBe('84D7000024');
    const c = parseCommand(apdu, factory);
    expect(c.macOk).toBe(true);
    expect(hex(openChangeKeyBody(factory, c.body)!)).toBe(
      hex(createHash('sha1').update('new-secret-key').digest().subarray(0, 16)),
    );
  });

  it('public block round-trips: 95 1F 70 1D, flag, title, two clocks, algorithm, step, digits, seed present', () => {
    const b = {
      flag: 1,
      title: 'VPN',
      rtcTime: 1_767_225_600,
      timeConfigured: 1_767_225_000,
      algorithmCode: 2,
      periodCode: 0x3c,
      digits: 10,
      seedPresent: true,
    };
    const enc = encodeProfileBlock(b);
    expect(hex(enc.subarray(0, 4))).toBe('951F701D');
    expect(enc.length).toBe(33);
    expect(parseProfileBlock(enc)).toEqual(b);
    expect(() => parseProfileBlock(Uint8Array.from([0x90, 0x00]))).toThrow(/95 .. 70/);
  });

  it('status words: 63NN tries left, 6A83 empty slot, 9060 waits for the button', () => {
    expect(triesLeft(0x6303)).toBe(3);
    expect(triesLeft(0x9000)).toBeNull();
    expect(statusWordMeaning(0x6302)).toMatch(/2 tries left/);
    expect(statusWordMeaning(0x6a83)).toMatch(/empty/);
    expect(statusWordMeaning(0x9060)).toMatch(/button/);
  });
});
