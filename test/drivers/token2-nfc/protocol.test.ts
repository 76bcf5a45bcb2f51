import { createCipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEVICE_KEY,
  authData,
  buildGetChallenge,
  buildGetInfo,
  buildWriteConfig,
  buildWriteSeed,
  configBody,
  openSeedBody,
  parseCommand,
  parseConfigBody,
  parseInfo,
  productForSerial,
  secureMac,
  statusWordMeaning,
  wipesSeedOnConfig,
} from '../../../drivers/token2-nfc/protocol.js';
import { flipByte } from '../../helpers/bytes.js';
import { toHexUpper as hex } from '../../helpers/bytes.js';

const bytes = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('Token2 protocol: fact sheet vectors', () => {
  it('answers challenge 1122334455667788 with the published auth data', () => {
    expect(hex(authData(bytes('1122334455667788')))).toBe('8B7450F22721BC29985C2C460B65045D');
  });

  it('MACs the config dd=2, SHA-256, 60 s, t=0x65432100 as 37A18BF9', () => {
    const apdu = buildWriteConfig({ displayTimeout: 60, algorithm: 'sha256', period: 60, time: 0x65432100 });
    expect(hex(apdu.subarray(0, 5))).toBe('84D4000017');
    expect(hex(apdu.subarray(5, 24))).toBe('81111F01020F04654321008606' + '0A0102' + '0D013C');
    expect(hex(apdu.subarray(24))).toBe('37A18BF9');
  });

  it('computes the MAC over class 80 and Lc without the MAC, as OpenSSL SM4-CBC does', () => {
    const body = configBody({ displayTimeout: 60, algorithm: 'sha256', period: 60, time: 0x65432100 });
    const input = Buffer.concat([
      Buffer.from([0x80, 0xd4, 0x00, 0x00, 19]),
      body,
      Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0]),
    ]);
    const c = createCipheriv('sm4-cbc', DEVICE_KEY, Buffer.alloc(16));
    c.setAutoPadding(false);
    const enc = Buffer.concat([c.update(input), c.final()]);
    expect(hex(secureMac(0xd4, 0, 0, body))).toBe(hex(enc.subarray(16, 20)));
    expect(hex(secureMac(0xd4, 0, 0, body))).toBe('37A18BF9');
  });

  it('pads a MAC input that is already a block multiple with nothing', () => {
    // 32-byte ciphertext body + 5-byte header = 37: padded; a 11-byte body + header = 16: not padded.
    const body = bytes('00112233445566778899AA');
    const c = createCipheriv('sm4-cbc', DEVICE_KEY, Buffer.alloc(16));
    c.setAutoPadding(false);
    const enc = Buffer.concat([c.update(Buffer.concat([Buffer.from([0x80, 0xc5, 0x01, 0x00, 11]), body])), c.final()]);
    expect(hex(secureMac(0xc5, 1, 0, body))).toBe(hex(enc.subarray(0, 4)));
  });
});

describe('Token2 protocol: commands', () => {
  it('builds get info and the one challenge form', () => {
    expect(hex(buildGetInfo())).toBe('80410000020211');
    expect(hex(buildGetChallenge())).toBe('804B08000100');
  });

  it('always pads the seed (a 32-byte seed goes as 48 bytes) and zero-pads short seeds to 20', () => {
    const s32 = buildWriteSeed(new Uint8Array(32).fill(0xcd));
    expect(hex(s32.subarray(0, 5))).toBe('84C5010034');
    expect(s32.length).toBe(5 + 48 + 4);
    const s20 = buildWriteSeed(new Uint8Array(20).fill(0xab));
    expect(hex(s20.subarray(0, 5))).toBe('84C5010024');
    const s16 = buildWriteSeed(new Uint8Array(16).fill(0x11));
    expect(hex(s16.subarray(0, 5))).toBe('84C5010024');
    const s63 = buildWriteSeed(new Uint8Array(63).fill(0x22));
    expect(s63[4]).toBe(64 + 4);
    expect(() => buildWriteSeed(new Uint8Array(64))).toThrow(/1 to 63 bytes/);
    expect(() => buildWriteSeed(new Uint8Array(0))).toThrow(/1 to 63 bytes/);
  });

  it('round-trips seeds through the device-side parse, with a valid MAC', () => {
    for (const n of [1, 10, 19, 20, 31, 32, 47, 48, 63]) {
      const seed = Uint8Array.from({ length: n }, (_, i) => (i * 37 + 1) & 0xff);
      const c = parseCommand(buildWriteSeed(seed));
      expect(c.macOk).toBe(true);
      const got = openSeedBody(c.body)!;
      const want = n < 20 ? Uint8Array.from([...seed, ...new Uint8Array(20 - n)]) : seed;
      expect(hex(got)).toBe(hex(want));
    }
  });

  it('detects a broken MAC', () => {
    const a = buildWriteConfig({ displayTimeout: 30, algorithm: 'sha1', period: 30, time: 1_700_000_000 });
    flipByte(a, 10, 1);
    expect(parseCommand(a).macOk).toBe(false);
  });

  it('parses a config body back into its fields', () => {
    const f = parseConfigBody(configBody({ displayTimeout: 120, algorithm: 'sha1', period: 30, time: 0x01020304 }))!;
    expect(f).toEqual({ displayTimeoutCode: 3, time: 0x01020304, algorithmCode: 1, periodCode: 0x1e });
    expect(parseConfigBody(new Uint8Array(19))).toBeNull();
  });

  it('parses info: 3 header bytes, N, serial, 2 separator bytes, 4 bytes of UTC', () => {
    const data = bytes('A1B2C3 0E ' + Buffer.from('86596220000042').toString('hex') + ' FFFF 65432100');
    expect(parseInfo(data)).toEqual({ serial: '86596220000042', deviceTime: 0x65432100 });
    expect(() => parseInfo(bytes('000000'))).toThrow(/too short/);
    expect(() => parseInfo(bytes('0000000E3836'))).toThrow(/too short/);
  });

  it('names models by serial prefix and knows which ones wipe the seed on sync', () => {
    expect(productForSerial('86596220000042')).toMatchObject({ product: 'OTPC-P2-i', model: 'token2-card' });
    expect(productForSerial('86596320000001')).toMatchObject({ product: 'C302-i', model: 'token2-fob-c302' });
    expect(productForSerial('86596100000001')).toMatchObject({ product: 'C301-i', model: 'token2-fob' });
    expect(productForSerial('1234')).toBeNull();
    expect(wipesSeedOnConfig('token2-card')).toBe(true);
    expect(wipesSeedOnConfig('token2-fob-c302')).toBe(false);
  });

  it('puts status words into words', () => {
    expect(statusWordMeaning(0x6983)).toMatch(/authentication failed/);
    expect(statusWordMeaning(0x6a80)).toMatch(/bad data/);
    expect(statusWordMeaning(0x63c2)).toMatch(/2 tries left/);
  });
});
