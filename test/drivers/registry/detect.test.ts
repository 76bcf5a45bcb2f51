/**
 * Detection asks the device: each family's harmless probe, in a defined
 * order. Every simulator is given a generic contactless ATR here (what a real
 * token on a reader shows), so a pass proves the ATR is not what told them
 * apart; the committed cassettes are answered from their recorded frames.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { detectFamily, detectionOrder } from '../../../drivers/registry.js';
import { ProtectimusSimulator } from '../../../drivers/protectimus/simulator.js';
import { Molto2Simulator } from '../../../drivers/token2-molto2/simulator.js';
import { Token2Simulator } from '../../../drivers/token2-nfc/simulator.js';
import { OathSimulator } from '../../../drivers/yubikey/oath-simulator.js';
import { readCassette } from '../../../src/transport/cassette.js';
import { MemoryTransport } from '../../../src/transport/memory.js';
import { toHex as hex } from '../../helpers/bytes.js';

/** The ATR an ACR122-class reader shows for an ISO 14443-4 card: nothing of the token in it. */
const GENERIC_CONTACTLESS_ATR = Uint8Array.from([0x3b, 0x80, 0x80, 0x01, 0x01]);

function withGenericAtr(sim: { process(a: Uint8Array): Uint8Array }) {
  const sent: string[] = [];
  return {
    sent,
    device: { atr: GENERIC_CONTACTLESS_ATR, process: (a: Uint8Array) => (sent.push(hex(a)), sim.process(a)) },
  };
}

describe('detectFamily over the simulators (generic ATR)', () => {
  it.each([
    ['token2-card', () => new Token2Simulator({ model: 'token2-card' }), 'token2-nfc'],
    ['token2-fob-c302', () => new Token2Simulator({ model: 'token2-fob-c302' }), 'token2-nfc'],
    ['token2-molto2', () => new Molto2Simulator({}), 'token2-molto2'],
    ['protectimus', () => new ProtectimusSimulator({ model: 'protectimus-slim' }), 'protectimus'],
    ['protectimus', () => new ProtectimusSimulator({ model: 'protectimus-flex' }), 'protectimus'],
    ['yubikey-oath', () => new OathSimulator({ serial: '16000100' }), 'yubikey'],
  ])('%s is told by its answers', async (model, make, family) => {
    const { device, sent } = withGenericAtr(make());
    const d = await detectFamily(new MemoryTransport(device));
    expect(d.family.name).toBe(family);
    expect(d.model).toBe(model);
    // Probes only read: no authentication, no write reached the device.
    expect(sent.every((c) => !/^(80ce|84)/.test(c))).toBe(true);
  });

  it('asks Protectimus first (an ISO card refuses its class 86), then the Molto2 before the single-profile Token2 (which answers the same INS with its info), the YubiKey (a SELECT) last', async () => {
    expect((await detectionOrder()).map((f) => f.name)).toEqual([
      'protectimus',
      'token2-molto2',
      'token2-nfc',
      'yubikey',
    ]);
  });

  it('a Token2 card is told before any SELECT of the OATH application reaches it (the YubiKey probe does not disturb the others)', async () => {
    const { device, sent } = withGenericAtr(new Token2Simulator({ model: 'token2-card' }));
    await detectFamily(new MemoryTransport(device));
    expect(sent.some((c) => c.startsWith('00a40400'))).toBe(false);
  });

  it('a device no family recognises is a device error naming every family tried', async () => {
    const t = new MemoryTransport(
      { atr: GENERIC_CONTACTLESS_ATR, process: () => Uint8Array.of(0x6d, 0x00) },
      { readerName: 'ACS ACR122U 00 00' },
    );
    await expect(detectFamily(t)).rejects.toMatchObject({
      exitCode: 3,
      code: 'unknown-device',
      message: expect.stringMatching(
        /no family answered: .*"ACS ACR122U 00 00".*protectimus .*token2-molto2 .*token2-nfc .*yubikey .*--model/,
      ),
    });
  });
});

describe('detectFamily over the committed cassettes', () => {
  const dir = join(import.meta.dirname, '../../../fixtures/cassettes');
  /** The probes: Molto2 profile-0 block, Token2 get info, Protectimus info frame, SELECT of the YubiKey OATH application. */
  const PROBES = ['804100000170', '80410000020211', '86021010', '00a4040007a0000005272101'];
  const cassettes = readdirSync(dir)
    .filter((f) => f.endsWith('.cassette'))
    .map((file) => {
      const c = readCassette(join(dir, file));
      // The recorded answer to each command the recording holds; anything else gets "instruction not supported".
      const answers = new Map<string, Uint8Array>();
      c.frames.forEach((f, i) => {
        const next = c.frames[i + 1];
        if (f.dir === 'command' && !f.redacted && next?.dir === 'response' && !answers.has(hex(f.bytes)))
          answers.set(hex(f.bytes), next.bytes);
      });
      return { file, c, answers };
    })
    // Only a recording that holds a probe's answer can answer detection (a read-code session never asked for info).
    .filter(({ answers }) => PROBES.some((p) => answers.has(p)));

  it('covers every built-in family', () => {
    expect(
      new Set(
        cassettes.map(({ c }) =>
          c.header.model
            ?.replace(/^token2-(card|fob.*)$/, 'token2-nfc')
            .replace(/^protectimus-.*$/, 'protectimus')
            .replace(/^yubikey-oath$/, 'yubikey'),
        ),
      ),
    ).toEqual(new Set(['token2-nfc', 'token2-molto2', 'protectimus', 'yubikey']));
  });

  it.each(cassettes.map((x) => [x.file, x] as const))(
    '%s: the family its header names',
    async (_file, { c, answers }) => {
      const t = new MemoryTransport({
        atr: GENERIC_CONTACTLESS_ATR,
        process: (a) => answers.get(hex(a)) ?? Uint8Array.of(0x6d, 0x00),
      });
      const d = await detectFamily(t);
      const model = c.header.model ?? '';
      const expected =
        model === 'token2-molto2'
          ? 'token2-molto2'
          : model.startsWith('protectimus')
            ? 'protectimus'
            : model === 'yubikey-oath'
              ? 'yubikey'
              : 'token2-nfc';
      expect(d.family.name).toBe(expected);
      if (expected === 'token2-nfc') expect(d.model).toBe(model);
    },
  );
});
