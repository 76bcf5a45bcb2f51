import { describe, expect, it } from 'vitest';
import {
  FrameError,
  buildAnswer,
  buildInfo,
  buildReadCode,
  buildSetTime,
  parseAnswer,
  parseCodePayload,
  parseInfoPayload,
  parseRequest,
  parseSetTimeData,
  xorOf,
} from '../../../drivers/protectimus/protocol.js';
import { ProtectimusDriver, seedWriteNotPublic } from '../../../drivers/protectimus/driver.js';
import { ProtectimusSimulator } from '../../../drivers/protectimus/simulator.js';
import { codeAtStep } from '../../../src/core/otp.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import { flipByte } from '../../helpers/bytes.js';
import { toHexUpper as hex } from '../../helpers/bytes.js';

const bytes = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const NOW = 1_767_225_600_000;

describe('Protectimus frames: the advisory bytes', () => {
  it('info is 86 02 10 10, read code 86 03 42 00 42', () => {
    expect(hex(buildInfo())).toBe('86021010');
    expect(hex(buildReadCode())).toBe('8603420042');
  });

  it('set time is 86 0A 12 00 00 II Q*4 RR XOR, with Q = floor(t / II) and R = t mod II', () => {
    const t = 1_767_225_617; // 17 s into a 30 s step
    const f = buildSetTime(t, 30);
    const q = Math.floor(t / 30);
    expect(hex(f.subarray(0, 6))).toBe('860A1200001E');
    expect(hex(f.subarray(6, 10))).toBe(q.toString(16).toUpperCase().padStart(8, '0'));
    expect(f[10]).toBe(17);
    expect(f[11]).toBe(xorOf(f.subarray(2, 11)));
    expect(parseSetTimeData(parseRequest(f))).toEqual({ interval: 30, time: t });
  });

  it('checks the request XOR and LEN', () => {
    expect(() => parseRequest(bytes('86021011'))).toThrow(FrameError);
    expect(() => parseRequest(bytes('86031010'))).toThrow(/LEN/);
  });

  it('checks the answer head, LEN, command and checksum', () => {
    const ok = buildAnswer(0x42, bytes('313233343536'));
    expect(hex(ok.subarray(0, 3))).toBe('AA0842');
    expect(parseCodePayload(parseAnswer(ok, 0x42).payload)).toBe('123456');
    const flipped = Uint8Array.from(ok);
    flipByte(flipped, 4, 0x01);
    expect(() => parseAnswer(flipped, 0x42)).toThrow(/checksum/);
    expect(() => parseAnswer(ok, 0x10)).toThrow(/for command 42, not 10/);
    expect(() => parseAnswer(bytes('6A80'))).toThrow(/AA/);
    expect(() => parseAnswer(ok.subarray(0, ok.length - 1))).toThrow(/LEN/);
  });

  it('info: hardware scheme 70, firmware 10.01, RTC, interval flag 00 = 30 s and 10 = 60 s', () => {
    const sim = new ProtectimusSimulator({ interval: 60 });
    const a = parseAnswer(sim.process(buildInfo()), 0x10);
    expect(a.payload.length).toBe(9);
    expect(parseInfoPayload(a.payload)).toEqual({
      hardwareScheme: '70',
      firmware: '10.01',
      rtc: true,
      interval: 60,
      intervalFlag: 0x10,
    });
  });
});

describe('ProtectimusDriver against the simulator', () => {
  it('reads the code the token shows (its own clock), and sets the clock with no authentication', async () => {
    const sim = new ProtectimusSimulator({ now: () => NOW, clockOffset: 90 });
    const seed = Buffer.from('12345678901234567890', 'ascii');
    const spec = { type: 'totp', algorithm: 'sha1', digits: 6, period: 30, counter: 0 } as const;
    const d = new ProtectimusDriver(new MemoryTransport(sim), { now: () => NOW });
    expect((await d.readCode()).code).toBe(codeAtStep(seed, spec, NOW / 1000 / 30 + 3));
    const r = await d.setTime();
    expect(r).toEqual({ timeWritten: NOW / 1000, interval: 30 });
    expect(sim.state().clockOffset).toBe(0);
    expect((await d.readCode()).code).toBe(codeAtStep(seed, spec, NOW / 1000 / 30));
    expect(await d.readUid()).toBe(hex(sim.uid));
  });

  it('a corrupted answer fails with the frame in the message (exit 3)', async () => {
    const sim = new ProtectimusSimulator({ now: () => NOW });
    const t = new MemoryTransport({
      atr: sim.atr,
      process: (f) => {
        const r = sim.process(f);
        flipByte(r, 3, 0xff);
        return r;
      },
    });
    const err = await new ProtectimusDriver(t).readInfo().catch((e) => e);
    expect(err.exitCode).toBe(3);
    expect(err.code).toBe('bad-frame');
    expect(err.message).toMatch(/checksum is 70, the bytes give 8F \(answer AA0B10FF/);
  });

  it('seed writing is refused as not public (exit 5), pointing to the vendor app and tokens add', () => {
    const e = seedWriteNotPublic('protectimus-flex', '70200000001');
    expect(e.exitCode).toBe(5);
    expect(e.message).toMatch(/not public/);
    expect(e.message).toMatch(/Android app/);
    expect(e.message).toMatch(/tokens add/);
  });
});
