/**
 * The store side of yubikey-otp, over a node-hid-shaped device wrapping the
 * simulator (the code path the CLI takes on USB): registration, the
 * overwrite rule, the one-attempt access code, and the HID module's
 * absence and permission errors.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateCode } from '../../src/core/otp.js';
import { encodeBase32 } from '../../src/core/codecs.js';
import { ExitCode, exitCodeOf } from '../../src/core/errors.js';
import { flashYubikeyOtp, parseAccessCode, parseYubikeyOtpInput } from '../../src/provision/families/yubikey/otp.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { HidUnavailableError, setNodeHidLoader, type NodeHidModule } from '../../src/transport/hid.js';
import { familyDeviceRows } from '../../src/cli/commands/device-list.js';
import { explainOpenFailure, listYubikeysHid, openYubikeyHid } from '../../drivers/yubikey/hid.js';
import { YubiOtpDriver } from '../../drivers/yubikey/otp/driver.js';
import { HidOtpLink } from '../../drivers/yubikey/otp/link.js';
import { YubiOtpSimulator } from '../../drivers/yubikey/otp/simulator.js';

let store: Store;
beforeEach(() => {
  store = openSqliteStore({
    path: ':memory:',
    env: { TOKENSMITH_MASTER_KEY: randomBytes(32).toString('hex') },
    operator: 'test',
  });
});
afterEach(async () => {
  await store.close();
});

/** node-hid as the transport sees it, with one simulated YubiKey (and a mouse, and the key's FIDO interface, which must not be picked). */
function fakeNodeHid(sim: YubiOtpSimulator, openError?: Error): NodeHidModule {
  return {
    devicesAsync: async () => [
      { vendorId: 0x046d, productId: 0xc077, path: '/dev/hidraw0', interface: 0, usagePage: 1, usage: 2 },
      {
        vendorId: 0x1050,
        productId: 0x0407,
        path: '/dev/hidraw1',
        product: 'YubiKey OTP+FIDO+CCID',
        interface: 1,
        usagePage: 0xf1d0,
        usage: 1,
      },
      {
        vendorId: 0x1050,
        productId: 0x0407,
        path: '/dev/hidraw2',
        product: 'YubiKey OTP+FIDO+CCID',
        interface: 0,
        usagePage: 1,
        usage: 6,
      },
    ],
    HIDAsync: {
      open: async () => {
        if (openError) throw openError;
        return {
          // node-hid's report id byte comes first each way.
          sendFeatureReport: async (b: number[] | Buffer) => (sim.sendFeatureReport(Uint8Array.from(b).subarray(1)), 9),
          getFeatureReport: async () => Buffer.from([0, ...sim.getFeatureReport()]),
          close: async () => {},
        };
      },
    },
  };
}

async function hidDriver(sim: YubiOtpSimulator): Promise<YubiOtpDriver> {
  return new YubiOtpDriver(new HidOtpLink(await openYubikeyHid(undefined, fakeNodeHid(sim))));
}

describe('flashYubikeyOtp over USB HID', () => {
  it('programs the slot and registers a HOTP token with its counter: UBOM<serial>_<slot>, programmed, an audit row without secrets', async () => {
    const sim = new YubiOtpSimulator({ serial: '7001234' });
    const seed = randomBytes(20);
    const r = await flashYubikeyOtp(
      store,
      await hidDriver(sim),
      parseYubikeyOtpInput({ slot: '2', digits: '8', counter: '48', seed: encodeBase32(seed) }),
      { reader: 'YubiKey (/dev/hidraw2)' },
    );
    expect(r).toMatchObject({
      serial: 'UBOM07001234_2',
      deviceSerial: '7001234',
      slot: 2,
      digits: 8,
      counter: 48,
      link: 'hid',
      overwroteSlot: false,
    });
    const t = (await store.tokens.findOne('Yubico', 'UBOM07001234_2'))!;
    expect(t).toMatchObject({
      type: 'hotp',
      algorithm: 'sha1',
      digits: 8,
      counter: 48,
      state: 'programmed',
      kind: 'programmable',
      deviceSerial: '7001234',
      profile: 2,
    });
    // The store's code at the counter is what the key types on its first touch.
    const stored = await store.tokens.openSeed(t);
    expect(generateCode(stored, { type: 'hotp', algorithm: 'sha1', digits: 8, period: 30, counter: 48 })).toBe(
      sim.press(2),
    );
    const audit = await store.audit.list();
    const row = audit.find((a) => a.action === 'token.flash')!;
    expect(row.details).toMatchObject({ slot: 2, link: 'hid', accessCode: false });
    expect(JSON.stringify(row.details)).not.toContain(seed.toString('hex'));
  });

  it('refuses a configured slot without --force (exit 5, nothing written), and overwrites it with --force', async () => {
    const sim = new YubiOtpSimulator();
    await (await hidDriver(sim)).programHotp(1, { seed: randomBytes(20), digits: 6, counter: 0 });
    const refused = await flashYubikeyOtp(store, await hidDriver(sim), parseYubikeyOtpInput({ slot: '1' }), {
      reader: 'r',
    }).catch((e: unknown) => e);
    expect(exitCodeOf(refused)).toBe(ExitCode.policy);
    expect(sim.state().writes).toBe(1);
    const r = await flashYubikeyOtp(store, await hidDriver(sim), parseYubikeyOtpInput({ slot: '1', force: true }), {
      reader: 'r',
    });
    expect(r.overwroteSlot).toBe(true);
    expect(sim.state().writes).toBe(2);
  });

  it('a wrong access code: one write, refused (exit 3); the store is unchanged; the right one keeps the slot protected', async () => {
    const sim = new YubiOtpSimulator();
    const code = parseAccessCode('00112233aabb');
    await flashYubikeyOtp(store, await hidDriver(sim), parseYubikeyOtpInput({ slot: '1', accessCode: code }), {
      reader: 'r',
    });
    const before = await store.tokens.findOne('Yubico', 'UBOM12345678_1');
    const writes = sim.state().writes;
    const wrong = await flashYubikeyOtp(
      store,
      await hidDriver(sim),
      parseYubikeyOtpInput({ slot: '1', force: true, accessCode: parseAccessCode('00112233aabc') }),
      { reader: 'r' },
    ).catch((e: unknown) => e);
    expect(exitCodeOf(wrong)).toBe(ExitCode.device);
    expect(sim.state()).toMatchObject({ writes, rejected: 1 });
    expect(await store.tokens.findOne('Yubico', 'UBOM12345678_1')).toEqual(before);
    await flashYubikeyOtp(
      store,
      await hidDriver(sim),
      parseYubikeyOtpInput({ slot: '1', force: true, accessCode: code }),
      { reader: 'r' },
    );
    expect(sim.state().slots[0].accessCodeSet).toBe(true);
  });

  it('checks the options by name before touching a key', () => {
    expect(() => parseYubikeyOtpInput({})).toThrow(/--slot/);
    expect(() => parseYubikeyOtpInput({ slot: '1', counter: '17' })).toThrow(/--counter/);
    expect(() => parseYubikeyOtpInput({ slot: '1', digits: '7' })).toThrow(/--digits/);
    expect(() => parseAccessCode('0011')).toThrow(/12 hex digits/);
    expect(() => parseAccessCode('0011')).not.toThrow(/0011/);
  });
});

describe('the HID transport', () => {
  it('lists only the YubiKey keyboard interface (the OTP application), not its FIDO interface or other devices', async () => {
    const keys = await listYubikeysHid(fakeNodeHid(new YubiOtpSimulator()));
    expect(keys.map((k) => k.path)).toEqual(['/dev/hidraw2']);
  });

  it('names the udev rule when the OS denies the hidraw node (EACCES)', async () => {
    const e = await openYubikeyHid(
      undefined,
      fakeNodeHid(new YubiOtpSimulator(), new Error('cannot open device with path /dev/hidraw2: EACCES')),
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HidUnavailableError);
    expect((e as Error).message).toMatch(/permission denied on \/dev\/hidraw2.*udev/s);
    expect((e as Error).message).toMatch(/idVendor}=="1050"/);
    expect(exitCodeOf(e)).toBe(ExitCode.device);
    // node-hid's bare "cannot open device": the node's mode tells.
    expect(explainOpenFailure('/dev/hidraw2', new Error('cannot open device'), () => false).message).toMatch(/udev/);
    expect(explainOpenFailure('/dev/hidraw2', new Error('cannot open device'), () => true).message).not.toMatch(/udev/);
  });

  it('without node-hid: a clear error for HID commands, and device list shows PC/SC only', async () => {
    setNodeHidLoader(() => Promise.reject(new Error("Cannot find package 'node-hid'")));
    try {
      await expect(openYubikeyHid()).rejects.toThrow(/node-hid .*npm install node-hid.*--reader/s);
      expect(await familyDeviceRows()).toEqual([]);
    } finally {
      setNodeHidLoader(async () => fakeNodeHid(new YubiOtpSimulator()));
    }
    expect(await familyDeviceRows()).toEqual([
      {
        name: 'YubiKey OTP+FIDO+CCID (USB HID, use --model yubikey-otp)',
        kind: 'hid',
        path: '/dev/hidraw2',
        token: true,
        atr: null,
      },
    ]);
  });
});
