/**
 * Scripted YubiKeys (OTP, over CCID in memory) for the batch tests, the same
 * script as batch-cards.ts's Token2 cards: one programmed, one whose slot a
 * batch programmed before (configured, its seed in the store), one pulled at
 * the slot write, one held on its first command until the operator stopped.
 */
import { YubiOtpDriver } from '../../drivers/yubikey/otp/driver.js';
import { CcidOtpLink } from '../../drivers/yubikey/otp/link.js';
import { YubiOtpSimulator } from '../../drivers/yubikey/otp/simulator.js';
import { flashYubikeyOtp, parseYubikeyOtpInput, slotSerial } from '../../src/provision/families/yubikey/otp.js';
import { addToken } from '../../src/provision/tokens.js';
import type { Store } from '../../src/store/types.js';
import { MemoryTransport } from '../../src/transport/memory.js';
import { HeldTransport, KNOWN_SEED } from './batch-cards.js';
import { memoryStore } from './helpers-ss.js';

const SERIALS = { ok: 20000301, known: 20000302, pulled: 20000303, cancel: 20000304 };
/** The store serials of slot 1 of each key. */
export const OTP_SCRIPT = Object.fromEntries(Object.entries(SERIALS).map(([k, n]) => [k, slotSerial(n, 1)])) as Record<
  keyof typeof SERIALS,
  string
>;
/** The options of `device flash --model yubikey-otp --reader R --slot 1 --batch --yes`. */
export const otpOptions = (reader: string) => ({ model: 'yubikey-otp', reader, slot: '1', batch: true });
/** The CCID command the slot write is (SELECT with the status, serial, write). */
const WRITE_COMMAND = 3;

/** Four fresh keys; the known one programmed before (on another station) and its seed in `store`. */
export async function otpKeys(store: Store): Promise<YubiOtpSimulator[]> {
  const sims = Object.values(SERIALS).map((n) => new YubiOtpSimulator({ serial: String(n) }));
  const elsewhere = memoryStore();
  const link = new CcidOtpLink(new MemoryTransport(sims[1]!));
  await flashYubikeyOtp(elsewhere, new YubiOtpDriver(link), parseYubikeyOtpInput({ slot: '1' }), { reader: 'r' });
  await elsewhere.close();
  const known = { serial: OTP_SCRIPT.known, secret: KNOWN_SEED, kind: 'programmable' as const };
  await addToken(store, { ...known, manufacturer: 'Yubico', model: 'yubikey-otp' });
  return sims;
}

/** The keys on the reader in script order; the fourth answers only once `stopped` resolves. */
export function scriptedKeys(sims: YubiOtpSimulator[], stopped: Promise<void>, readerName: string) {
  return {
    sims,
    transports: [
      new MemoryTransport(sims[0]!, { readerName }),
      new MemoryTransport(sims[1]!, { readerName }),
      new MemoryTransport(sims[2]!, { readerName, removeBeforeCommand: WRITE_COMMAND }),
      new HeldTransport(sims[3]!, stopped, { readerName }),
    ],
  };
}

/** What each key's slot 1 holds after the run. */
export const otpOutcome = (sims: YubiOtpSimulator[]) => sims.map((s) => s.state().slots[0].configured);
