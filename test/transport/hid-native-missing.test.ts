/**
 * node-hid loads its native part at its first call, so on a machine without
 * libusb (a clean Debian without the CI packages) the import works and the
 * first listing throws "libusb-1.0.so.0: cannot open shared object file".
 * That is HID being unavailable, in words with the package to install: `device
 * list` then shows the PC/SC readers (or pcscd's absence) instead of crashing.
 */
import { describe, expect, it } from 'vitest';
import { exitCodeOf, ExitCode } from '../../src/core/errors.js';
import { listYubikeysHid } from '../../drivers/yubikey/hid.js';
import { HidUnavailableError, type NodeHidModule } from '../../src/transport/hid.js';

/** A node-hid whose native part fails to load as it does without the system library. */
function nodeHidFailing(message: string): NodeHidModule {
  return {
    devicesAsync: () => Promise.reject(new Error(message)),
    HIDAsync: { open: () => Promise.reject(new Error('not reached')) },
  };
}

describe('HID without its native library', () => {
  it('a missing libusb is HID being unavailable, naming the library and the Debian package', async () => {
    const e = await listYubikeysHid(
      nodeHidFailing('libusb-1.0.so.0: cannot open shared object file: No such file or directory'),
    ).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(HidUnavailableError);
    expect((e as Error).message).toContain('libusb-1.0.so.0 is missing (Debian: `apt-get install libusb-1.0-0`)');
    expect((e as Error).message).toContain('--reader');
    expect(exitCodeOf(e)).toBe(ExitCode.device);
  });

  it('a binding file that is not there is unavailable too, with what node-hid said', async () => {
    const e = await listYubikeysHid(nodeHidFailing('No native build was found for platform=linux arch=x64')).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(HidUnavailableError);
    expect((e as Error).message).toContain('No native build was found');
  });

  it('any other failure of the listing stays what it was', async () => {
    const e = await listYubikeysHid(nodeHidFailing('hid_enumerate failed')).catch((x: unknown) => x);
    expect(e).not.toBeInstanceOf(HidUnavailableError);
    expect((e as Error).message).toBe('hid_enumerate failed');
  });
});
