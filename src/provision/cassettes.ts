/**
 * Cassette services: record a device session (`device flash --record`), show
 * one as an annotated transcript, and verify one by replaying it through the
 * real driver of the family its model belongs to (drivers/registry.ts). Only
 * labelled test seeds are ever stored in a cassette; any other seed's frames
 * (the recorded family says which) are redacted and replayed by shape.
 */
import { packageVersion } from '../core/version.js';
import { DataError, TokensmithError, UsageError } from '../core/errors.js';
import {
  hexSpaced,
  readCassette,
  writeCassette,
  type Cassette,
  type CassetteOperation,
  type CassetteSource,
} from '../transport/cassette.js';
import { CassetteMismatchError } from '../transport/errors.js';
import { RecordingTransport } from '../transport/record.js';
import { ReplayTransport } from '../transport/replay.js';
import type { ApduTransport } from '../transport/types.js';
import type { DeviceFamily } from '../../drivers/family.js';
import { familyOfModel, loadedFamilyOfModel } from '../../drivers/registry.js';

/** Published test seeds: safe in fixtures, logs of tests, and cassettes. */
export const LABELLED_TEST_SEEDS: { label: string; seed: Uint8Array }[] = [
  { label: 'RFC 6238 SHA-1 test seed', seed: Buffer.from('12345678901234567890', 'ascii') },
  { label: 'RFC 6238 SHA-256 test seed', seed: Buffer.from('12345678901234567890123456789012', 'ascii') },
  {
    label: 'RFC 6238 SHA-512 test seed',
    seed: Buffer.from('1234567890123456789012345678901234567890123456789012345678901234', 'ascii'),
  },
];

export function testSeedLabel(seed: Uint8Array | null | undefined): string | null {
  if (!seed) return null;
  const hit = LABELLED_TEST_SEEDS.find((t) => t.seed.length === seed.length && t.seed.every((b, i) => b === seed[i]));
  return hit?.label ?? null;
}

/** A clock that remembers what it said, so a replay can say the same. */
export class RecordedClock {
  readonly reads: number[] = [];
  constructor(private readonly source: () => number = Date.now) {}
  now = (): number => {
    const t = this.source();
    this.reads.push(t);
    return t;
  };
}

/** A clock that says again what a recording's clock said (then stays at its last value). */
export function replayClock(reads: number[] | undefined, fallbackSeconds: number | null): () => number {
  let i = 0;
  const list = reads && reads.length > 0 ? reads : [(fallbackSeconds ?? 0) * 1000];
  return () => list[Math.min(i++, list.length - 1)]!;
}

/**
 * Which frames carry the seed: the caller's check, else the recorded model's
 * family's. No check is a refusal before any frame is recorded: guessing
 * another family's frames could store the seed.
 */
function seedBearingCheck(
  model: string | null | undefined,
  own: ((apdu: Uint8Array) => boolean) | undefined,
): (apdu: Uint8Array) => boolean {
  const family = loadedFamilyOfModel(model);
  const check = own ?? family?.isSeedBearing;
  if (check) return check;
  const who = family ? `${family.name} names no seed-bearing frames` : `no family's model is '${model ?? ''}'`;
  throw new UsageError(
    `cannot record this session with its seed: ${who}, so the seed could not be kept out of the cassette; record with a labelled test seed`,
    'cannot-redact',
  );
}

export interface RecordSession {
  transport: RecordingTransport;
  clock: RecordedClock;
  /** Writes the cassette; call in `finally`, with the outcome. */
  save(outcome: CassetteOperation['outcome'], extra?: { model?: string | null }): void;
}

/**
 * Wraps a transport for recording. `seed` is what the operation writes (null
 * for none): kept in the header only when it is a labelled test seed, else
 * the seed-bearing frames are redacted.
 */
export function startRecording(
  inner: ApduTransport,
  path: string,
  opts: {
    source: CassetteSource;
    operation: string;
    params: Record<string, unknown>;
    seed: Uint8Array | null;
    model?: string | null;
    clock?: () => number;
    frameClock?: () => number;
    note?: string;
    /** The seed-bearing check (default: the recorded model's family's) and how much of a redacted frame to keep; `always` redacts even a labelled test seed's frames (they carry an access code). */
    redaction?: { isSeedBearing: (apdu: Uint8Array) => boolean; keep?: (apdu: Uint8Array) => number; always?: boolean };
  },
): RecordSession {
  const label = testSeedLabel(opts.seed);
  const clock = new RecordedClock(opts.clock);
  const redactOn = Boolean(opts.redaction?.always || (!label && opts.seed));
  const transport = new RecordingTransport(inner, {
    redact: redactOn ? seedBearingCheck(opts.model, opts.redaction?.isSeedBearing) : undefined,
    redactedPrefix: opts.redaction?.keep,
    clock: opts.frameClock,
  });
  const recordedAt = new Date().toISOString();
  return {
    transport,
    clock,
    save(outcome, extra = {}) {
      const c = transport.cassette({
        model: extra.model ?? opts.model ?? null,
        source: opts.source,
        recordedAt,
        toolVersion: packageVersion(),
        hostClock: clock.reads.length ? Math.floor(clock.reads[0]! / 1000) : null,
        seed: label ? Uint8Array.from(opts.seed!) : null,
        seedLabel: label,
        seedLength: opts.seed?.length ?? null,
        operation: { name: opts.operation, params: { ...opts.params, clockReads: clock.reads }, outcome },
        ...(opts.note ? { note: opts.note } : {}),
      });
      writeCassette(path, c, loadedFamilyOfModel(c.header.model)?.describe);
    },
  };
}

export interface TranscriptLine {
  seq: number;
  ms: number;
  dir: string;
  hex: string;
  meaning: string;
}

export interface CassetteView {
  file: string;
  header: Record<string, unknown>;
  frames: TranscriptLine[];
}

/** The family that recorded a cassette, from the model in its header; none or an unknown one is a data error. */
async function familyOfCassette(path: string, model: string | null | undefined): Promise<DeviceFamily> {
  if (!model)
    throw new DataError(`${path} names no model in its header, so no driver can read it`, {
      code: 'bad-cassette',
      where: path,
    });
  try {
    return await familyOfModel(model, `${path}: model`);
  } catch (e) {
    throw new DataError((e as Error).message, { code: 'bad-cassette', where: path });
  }
}

export async function showCassette(path: string): Promise<CassetteView> {
  const c = readCassette(path);
  const h = c.header;
  let lastCommand: Uint8Array | undefined;
  const describeFrame = (await familyOfCassette(path, h.model)).describe;
  const frames = c.frames.map((f): TranscriptLine => {
    if (f.dir === 'event')
      return {
        seq: f.seq,
        ms: f.ms,
        dir: 'event',
        hex: '',
        meaning: `${f.event}${f.message ? ` (${f.message})` : ''}`,
      };
    if (f.dir === 'command') lastCommand = f.bytes;
    const meaning = f.redacted
      ? `${f.bytes.length ? `${describeFrame(f.bytes, 'command')}; ` : ''}redacted: ${f.length} bytes, replayed by shape`
      : describeFrame(f.bytes, f.dir, lastCommand);
    return { seq: f.seq, ms: f.ms, dir: f.dir, hex: hexSpaced(f.bytes) + (f.redacted ? ' ..' : ''), meaning };
  });
  const { operation, atr, seed, ...rest } = h;
  const params = operation
    ? Object.fromEntries(Object.entries(operation.params).filter(([k]) => k !== 'clockReads'))
    : null;
  return {
    file: path,
    header: {
      ...rest,
      atr: hexSpaced(atr),
      seed: seed
        ? `${h.seedLabel ?? 'test seed'} (${seed.length} bytes)`
        : h.seedLength
          ? `not stored (${h.seedLength} bytes, redacted)`
          : null,
      operation: operation ? { name: operation.name, params, outcome: operation.outcome } : null,
    },
    frames,
  };
}

export function formatTranscript(v: CassetteView): string {
  const h = v.header;
  const head = [
    `cassette ${v.file}`,
    `  source ${String(h.source)}, transport ${String(h.transport)}, reader "${String(h.reader)}", ATR ${String(h.atr)}`,
    `  model ${String(h.model ?? '-')}, recorded ${String(h.recordedAt)} by tokensmith ${String(h.toolVersion)}, host clock ${h.hostClock ? new Date(Number(h.hostClock) * 1000).toISOString() : '-'}`,
    `  seed: ${String(h.seed ?? 'none')}`,
    `  operation: ${JSON.stringify(h.operation)}`,
    '',
  ];
  const body = v.frames.map((f) => {
    const arrow = f.dir === 'command' ? '>>' : f.dir === 'response' ? '<<' : '!!';
    return `#${String(f.seq).padStart(3)} ${String(f.ms).padStart(6)} ms ${arrow} ${f.hex}${f.hex ? '\n' + ' '.repeat(17) : ''}${f.meaning}`;
  });
  return [...head, ...body].join('\n');
}

export interface VerifyCassetteResult {
  file: string;
  ok: true;
  operation: string;
  outcome: string;
  frames: number;
  commands: number;
}

/** Replays a cassette through the real driver; throws CassetteMismatchError on the first difference. */
export async function verifyCassette(path: string, cassette?: Cassette): Promise<VerifyCassetteResult> {
  const c = cassette ?? readCassette(path);
  const op = c.header.operation;
  if (!op)
    throw new DataError(`${path} records no operation, so there is nothing to replay`, {
      code: 'bad-cassette',
      where: path,
    });
  const family = await familyOfCassette(path, c.header.model);
  if (!family.operations.includes(op.name))
    throw new DataError(
      `${path}: ${family.name} has no cassette operation '${op.name}' (it replays ${family.operations.join(', ')})`,
      { code: 'bad-cassette', where: path },
    );
  const replay = new ReplayTransport(c, { describe: family.describe, name: path });
  const p = op.params;
  const model = typeof p.model === 'string' ? p.model : c.header.model!;
  // A redacted seed is replayed by shape: a stand-in of the recorded length.
  const seed = c.header.seed
    ? Uint8Array.from(c.header.seed)
    : c.header.seedLength
      ? new Uint8Array(c.header.seedLength).fill(0x5a)
      : null;
  let outcome: CassetteOperation['outcome'];
  try {
    await family.replay(model, op, replay, {
      now: replayClock(p.clockReads as number[] | undefined, c.header.hostClock),
      seed,
    });
    outcome = { ok: true };
  } catch (e) {
    // The driver wraps what stopped it; a mismatch is the replay's own failure.
    for (let cur: unknown = e; cur; cur = (cur as Error).cause) if (cur instanceof CassetteMismatchError) throw cur;
    if (!(e instanceof TokensmithError)) throw e;
    outcome = { ok: false, error: e.code };
  }
  replay.assertFinished();
  const want = op.outcome;
  const same = want.ok === outcome.ok && (want.ok || (outcome.ok === false && want.error === outcome.error));
  if (!same) {
    throw new DataError(
      `replay of ${path}: the recording ended ${want.ok ? 'ok' : `with ${want.error}`}, the replay ${outcome.ok ? 'ok' : `with ${outcome.error}`}`,
      {
        code: 'cassette-mismatch',
        where: path,
      },
    );
  }
  return {
    file: path,
    ok: true,
    operation: op.name,
    outcome: outcome.ok ? 'ok' : outcome.error,
    frames: c.frames.length,
    commands: c.frames.filter((f) => f.dir === 'command').length,
  };
}
