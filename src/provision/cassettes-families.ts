/**
 * Cassettes of the Molto2 and Protectimus families: the frame describer for
 * each, and the operations `cassette verify` runs again through the real
 * driver. A Molto2 cassette made with a customer key other than the factory
 * one carries that key in its params only when it is a labelled test key.
 */
import { DataError } from '../core/errors.js';
import type { CassetteOperation } from '../transport/cassette.js';
import type { FrameDescriber } from '../transport/replay.js';
import type { ApduTransport } from '../transport/types.js';
import { describeFrame as describeMolto2 } from '../../drivers/token2-molto2/describe.js';
import { Molto2Driver, type Molto2Settings } from '../../drivers/token2-molto2/driver.js';
import { parseCustomerKey } from '../../drivers/token2-molto2/protocol.js';
import { describeFrame as describeProtectimus } from '../../drivers/protectimus/describe.js';
import { ProtectimusDriver } from '../../drivers/protectimus/driver.js';

/** Customer keys that may appear in a cassette: made up for tests, never a site's key. */
export const LABELLED_TEST_CUSTOMER_KEYS = ['WRONG-TEST-KEY-1'];

export function familyDescriber(model: string | null | undefined): FrameDescriber | null {
  if (model === 'token2-molto2') return describeMolto2;
  if (model === 'protectimus-slim' || model === 'protectimus-flex') return describeProtectimus;
  return null;
}

/** Runs a recorded operation again through the real driver over `transport` (a replay). */
export async function runFamilyOperation(model: string, op: CassetteOperation, transport: ApduTransport, now: () => number, seed: Uint8Array | null): Promise<void> {
  const p = op.params;
  if (model === 'token2-molto2') {
    const key = typeof p.customerKey === 'string' ? p.customerKey : undefined;
    if (key !== undefined && !LABELLED_TEST_CUSTOMER_KEYS.includes(key)) throw new DataError(`cassette carries a customer key that is not a labelled test key`, { code: 'bad-cassette' });
    const d = new Molto2Driver(transport, { now, customerKey: key ? parseCustomerKey(key) : undefined });
    if (op.name === 'flash-profile') {
      const settings = { algorithm: p.algorithm, digits: Number(p.digits), period: Number(p.period), displayTimeout: Number(p.displayTimeout) } as Molto2Settings;
      await d.writeProfile(Number(p.profile), seed ?? new Uint8Array(20).fill(0x5a), settings, { title: p.title as string | undefined, force: Boolean(p.force) });
    } else if (op.name === 'profiles') await d.listProfiles();
    else if (op.name === 'sync-profiles') await d.syncProfiles(p.profiles === 'all' ? 'all' : (p.profiles as number[]));
    else throw new DataError(`unknown Molto2 operation '${op.name}'`, { code: 'bad-cassette' });
    return;
  }
  const d = new ProtectimusDriver(transport, { now });
  if (op.name === 'info') {
    await d.readUid();
    await d.readInfo();
  } else if (op.name === 'read-code') await d.readCode();
  else if (op.name === 'set-time') await d.setTime();
  else throw new DataError(`unknown Protectimus operation '${op.name}'`, { code: 'bad-cassette' });
}
