import { describe, expect, it } from 'vitest';
import { AuthenticationFailedError, Token2Driver, Token2WriteError } from '../../../drivers/token2-nfc/driver.js';
import { Token2Simulator } from '../../../drivers/token2-nfc/simulator.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import type { ApduTransport } from '../../../src/transport/types.js';

const NOW = 1_760_000_000_000;
const seed32 = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
const settings = { algorithm: 'sha256', period: 60, displayTimeout: 60 } as const;

/** Counts what the driver sends, by instruction byte. */
function spy(t: ApduTransport) {
  const sent: string[] = [];
  const orig = t.transmit.bind(t);
  t.transmit = async (apdu, o) => {
    sent.push(Buffer.from(apdu.subarray(0, 2)).toString('hex').toUpperCase());
    return orig(apdu, o);
  };
  return sent;
}

describe('Token2Driver against the simulator', () => {
  it('flashes: info, auth, config, auth, seed, info; the token holds seed and config', async () => {
    const sim = new Token2Simulator({
      model: 'token2-card',
      serial: '86596220000042',
      clockOffset: -300,
      now: () => NOW,
    });
    const t = new MemoryTransport(sim);
    const sent = spy(t);
    const d = new Token2Driver(t, { now: () => NOW });
    const out = await d.flash(seed32, settings);
    expect(sent).toEqual(['8041', '804B', '80CE', '84D4', '804B', '80CE', '84C5', '8041']);
    expect(out.commands).toBe(8);
    expect(out.info).toMatchObject({
      serial: '86596220000042',
      model: 'token2-card',
      product: 'OTPC-P2-i',
      offset: -300,
    });
    expect(out.offsetAfter).toBe(0);
    const s = sim.state();
    expect(s.seedHex).toBe(Buffer.from(seed32).toString('hex'));
    expect(s).toMatchObject({
      algorithm: 'sha256',
      period: 60,
      displayTimeoutCode: 2,
      clockOffset: 0,
      authFailures: 0,
    });
  });

  it('never retries a failed authentication (6983): exactly one attempt, nothing written', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', keyLocked: true });
    const t = new MemoryTransport(sim);
    const sent = spy(t);
    const d = new Token2Driver(t);
    const err = await d.flash(seed32, settings).catch((e) => e);
    expect(err).toBeInstanceOf(AuthenticationFailedError);
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/did not retry/);
    expect(sent.filter((s) => s === '80CE')).toHaveLength(1);
    expect(sent).toEqual(['8041', '804B', '80CE']);
    expect(sim.state().authFailures).toBe(1);
  });

  it('reports a card pulled between config and seed: config written, seed wiped', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', seed: new Uint8Array(20).fill(7) });
    // command 5 is the second challenge, right after the config write
    const t = new MemoryTransport(sim, { removeBeforeCommand: 5 });
    const err = await new Token2Driver(t).flash(seed32, settings).catch((e) => e);
    expect(err).toBeInstanceOf(Token2WriteError);
    expect(err).toMatchObject({ configWritten: true, seedWritten: false, code: 'card-removed', exitCode: 3 });
    expect(err.message).toMatch(/Config written, seed not written: .*seed may be wiped/);
    expect(sim.state().seedHex).toBeNull();
  });

  it('syncs a restricted token by writing the seed again, and a C302-i without it', async () => {
    const held = new Uint8Array(20).fill(9);
    const card = new Token2Simulator({ model: 'token2-card', seed: held, clockOffset: 500, now: () => NOW });
    const ct = new MemoryTransport(card);
    const sentCard = spy(ct);
    await new Token2Driver(ct, { now: () => NOW }).syncClock(settings, held);
    expect(sentCard).toContain('84C5');
    expect(card.state()).toMatchObject({ seedHex: Buffer.from(held).toString('hex'), clockOffset: 0 });

    const fob = new Token2Simulator({ model: 'token2-fob-c302', seed: held, clockOffset: -42, now: () => NOW });
    const ft = new MemoryTransport(fob);
    const sentFob = spy(ft);
    const out = await new Token2Driver(ft, { now: () => NOW }).syncClock(settings, null);
    expect(sentFob).not.toContain('84C5');
    expect(out.info.offset).toBe(-42);
    expect(fob.state()).toMatchObject({ seedHex: Buffer.from(held).toString('hex'), clockOffset: 0 });
  });

  it('refuses to sync a restricted token without the seed to write back, before writing anything', async () => {
    const card = new Token2Simulator({ model: 'token2-card', seed: new Uint8Array(20).fill(1) });
    const err = await new Token2Driver(new MemoryTransport(card)).syncClock(settings, null).catch((e) => e);
    expect(err.code).toBe('seed-needed');
    expect(card.state().seedHex).not.toBeNull();
  });

  it('stops before writing when the beforeWrite hook throws', async () => {
    const sim = new Token2Simulator({ model: 'token2-card' });
    const t = new MemoryTransport(sim);
    const sent = spy(t);
    await expect(
      new Token2Driver(t).flash(seed32, settings, () => {
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(sent).toEqual(['8041']);
  });

  it('turns a bad status word into words and says what the token holds', async () => {
    const sim = new Token2Simulator({ model: 'token2-card' });
    const t = new MemoryTransport(sim);
    const orig = t.transmit.bind(t);
    t.transmit = async (a: Uint8Array) => (a[1] === 0xc5 ? Uint8Array.from([0x6a, 0x80]) : orig(a));
    const err = await new Token2Driver(t).flash(seed32, settings).catch((e) => e);
    expect(err.message).toMatch(/writing the seed.*6A80 \(bad data in the command\)/);
    expect(err.message).toMatch(/Config written, seed not written/);
  });

  it('needs --model for an unknown serial prefix, and honours it', async () => {
    const sim = new Token2Simulator({ model: 'token2-fob', serial: '12345' });
    await expect(new Token2Driver(new MemoryTransport(sim)).readInfo()).rejects.toThrow(/--model/);
    const info = await new Token2Driver(new MemoryTransport(sim), { model: 'token2-fob' }).readInfo();
    expect(info).toMatchObject({ serial: '12345', model: 'token2-fob', product: null });
  });

  it('falls back to the other challenge form when a token refuses the length of the first, then authenticates once', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042' });
    const t = new MemoryTransport(sim);
    const sent: string[] = [];
    const orig = t.transmit.bind(t);
    // A token that only takes `80 4B 08 00 00`.
    t.transmit = async (a: Uint8Array) => {
      const hex = Buffer.from(a).toString('hex').toUpperCase();
      sent.push(hex);
      return hex === '804B08000100' ? Uint8Array.from([0x67, 0x00]) : orig(a);
    };
    await new Token2Driver(t).flash(seed32, settings);
    expect(sent.filter((h) => h.startsWith('804B'))).toEqual(['804B08000100', '804B080000', '804B080000']);
    expect(sent.filter((h) => h.startsWith('80CE'))).toHaveLength(2);
    expect(sim.state().seedHex).toBe(Buffer.from(seed32).toString('hex'));
  });

  it('does not fall back on an authentication failure, nor on an unknown instruction', async () => {
    const sim = new Token2Simulator({ model: 'token2-card' });
    const t = new MemoryTransport(sim);
    const sent: string[] = [];
    t.transmit = async (a: Uint8Array) => {
      sent.push(Buffer.from(a.subarray(0, 2)).toString('hex').toUpperCase());
      return a[1] === 0x4b ? Uint8Array.from([0x6d, 0x00]) : sim.process(a);
    };
    await expect(new Token2Driver(t).flash(seed32, settings)).rejects.toThrow(/6D00/);
    expect(sent).toEqual(['8041', '804B']);
  });

  it('simulator accepts both challenge forms', () => {
    const sim = new Token2Simulator({ model: 'token2-card' });
    for (const form of ['804B080000', '804B08000100', '804B0800']) {
      const r = sim.process(Uint8Array.from(Buffer.from(form, 'hex')));
      expect(r.length).toBe(10);
      expect(Buffer.from(r.subarray(8)).toString('hex')).toBe('9000');
    }
  });
  it('answers 6Cxx by resending only a bare header + Le command; a command with data is reported, never resent without it', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042' });
    const t = new MemoryTransport(sim);
    const sent: string[] = [];
    const orig = t.transmit.bind(t);
    // A token that asks for another Le on the first info command (which carries data: 02 11).
    t.transmit = async (a: Uint8Array) => {
      const hex = Buffer.from(a).toString('hex').toUpperCase();
      sent.push(hex);
      return a[1] === 0x41 ? Uint8Array.from([0x6c, 0x20]) : orig(a);
    };
    const err = await new Token2Driver(t).readInfo().catch((e) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/6C20/);
    expect(sent).toEqual(['80410000020211']);
  });

  it('fetches the rest of a 61xx answer with GET RESPONSE in class 80, the class this token speaks', async () => {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042' });
    const t = new MemoryTransport(sim);
    const sent: string[] = [];
    let held: Uint8Array | null = null;
    const orig = t.transmit.bind(t);
    t.transmit = async (a: Uint8Array) => {
      sent.push(Buffer.from(a.subarray(0, 2)).toString('hex').toUpperCase());
      if (a[1] === 0xc0) {
        const rest = held!;
        held = null;
        return rest;
      }
      const full = await orig(a);
      if (a[1] !== 0x41) return full;
      // Split the info answer: the first 4 data bytes now, the rest (with 9000) on GET RESPONSE.
      held = full.subarray(4);
      return Uint8Array.from([...full.subarray(0, 4), 0x61, held.length - 2]);
    };
    const info = await new Token2Driver(t).readInfo();
    expect(info.serial).toBe('86596220000042');
    expect(sent).toEqual(['8041', '80C0']);
  });
});
