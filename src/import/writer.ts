/**
 * Writes validated records into the store inside the import's transaction,
 * a chunk at a time, and sorts out every serial that is already there:
 * a repeat within the file, a known token, a conflicting seed.
 */
import type { Repos, NewToken, TokenRecord } from '../store/types.js';
import type { SeedRecord } from './types.js';

export type OnDuplicate = 'fail' | 'skip' | 'update';

const CHUNK = 1000;

export interface WriterEvents {
  problem(where: string, message: string, serial: string, code: string): void;
  skip(where: string, message: string, serial: string): void;
}

/** The facts a file gives about a token, the place in the file left aside, in a stable order. */
function factsOf(attributes: Record<string, unknown>): string {
  const { importedFrom: _place, ...facts } = attributes;
  return JSON.stringify(
    Object.keys(facts)
      .sort()
      .map((k) => [k, facts[k]]),
  );
}

function sameFacts(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return factsOf(a) === factsOf(b);
}

/** What differs between two rows of one serial and seed: the counter or the row's facts, named (never the seed); null if nothing. */
function rowDifference(known: TokenRecord, r: SeedRecord): string | null {
  const found: string[] = [];
  if (known.counter !== r.counter) found.push(`counter (${known.counter} and ${r.counter})`);
  if (!sameFacts(known.attributes, r.attributes)) found.push('details (user, realm, issuer ...)');
  return found.length > 0 ? found.join(', ') : null;
}

export class BatchWriter {
  private pending: SeedRecord[] = [];
  imported = 0;
  updated = 0;
  skipped = 0;
  /** Tokens from before this import that it updated: a later repeat in the file is then a repeat, not a known serial. */
  private readonly touched = new Set<number>();

  constructor(
    private readonly tx: Repos,
    private readonly batchId: number,
    private readonly resourceId: number | null,
    private readonly onDuplicate: OnDuplicate,
    private readonly events: WriterEvents,
    /** Whether the store held tokens before this import: if not, no serial can clash across manufacturers with an older token. */
    private readonly storeHadTokens = true,
    /** Whether a repeat must also agree in the facts of its row (user, issuer ...): the text formats, where those facts are the row's. */
    private readonly repeatsCompareFacts = false,
  ) {}

  /** Queues a record; true when a chunk is full and flush() is due (kept synchronous: it runs once per record). */
  add(r: SeedRecord): boolean {
    this.pending.push(r);
    return this.pending.length >= CHUNK;
  }

  /** Wipes the seeds of records queued but not written (the import failed or was given up). */
  discard(): void {
    for (const r of this.pending.splice(0)) r.seed.fill(0);
  }

  async flush(): Promise<void> {
    const records = this.pending;
    this.pending = [];
    if (records.length === 0) return;
    const rows: NewToken[] = records.map((r) => ({
      serial: r.serial,
      manufacturer: r.manufacturer,
      model: r.model,
      kind: 'classic',
      type: r.type,
      algorithm: r.algorithm,
      digits: r.digits,
      period: r.period,
      counter: r.counter,
      state: 'in_stock',
      driftSteps: r.driftSteps,
      ...(r.t0 ? { t0: r.t0 } : {}),
      seed: r.seed,
      batchId: this.batchId,
      resourceId: this.resourceId,
      attributes: r.attributes,
      ...codeFields(r),
    }));
    try {
      const { inserted, existing } = await this.tx.tokens.insertMany(rows);
      this.imported += inserted;
      for (const i of existing) await this.resolve(records[i]!);
      if (this.storeHadTokens) await this.crossManufacturer(records, new Set(existing));
    } finally {
      for (const r of records) r.seed.fill(0);
    }
  }

  /**
   * Serials are unique per manufacturer, but a file that names none (most CSVs)
   * and a token whose manufacturer is unknown mean the same token: one query
   * per chunk finds those pairs, which are then judged like any known serial.
   */
  private async crossManufacturer(records: SeedRecord[], existing: Set<number>): Promise<void> {
    const bySerial = new Map<string, TokenRecord[]>();
    for (const t of await this.tx.tokens.list({ serials: records.map((r) => r.serial) })) {
      const list = bySerial.get(t.serial);
      if (list) list.push(t);
      else bySerial.set(t.serial, [t]);
    }
    for (const [i, r] of records.entries()) {
      if (existing.has(i)) continue;
      const same = bySerial.get(r.serial);
      if (!same || same.length < 2) continue;
      const mine = same.find((t) => t.manufacturer === r.manufacturer && t.batchId === this.batchId);
      const other = same.find(
        (t) => t !== mine && t.manufacturer !== r.manufacturer && (t.manufacturer === '' || r.manufacturer === ''),
      );
      if (!mine || !other) continue;
      await this.tx.tokens.delete(mine.id);
      this.imported--;
      await this.resolve(r, other);
    }
  }

  private async resolve(r: SeedRecord, knownToken?: TokenRecord): Promise<void> {
    const known = knownToken ?? (await this.tx.tokens.findOne(r.manufacturer, r.serial))!;
    const seed = await this.tx.tokens.openSeed(known).catch(() => null);
    const sameSeed = seed !== null && seed.equals(r.seed);
    seed?.fill(0);
    const sameSpec =
      known.type === r.type &&
      known.algorithm === r.algorithm &&
      known.digits === r.digits &&
      known.period === r.period &&
      (known.t0 ?? 0) === (r.t0 ?? 0) &&
      !known.checkDigit === !r.checkDigit;
    const label = `${r.serial}${known.manufacturer ? ` (${known.manufacturer})` : ''}`;
    if (known.batchId === this.batchId || this.touched.has(known.id)) {
      this.repeatInFile(r, known, label, sameSeed, sameSpec);
      return;
    }
    const from = known.batchId ? `batch ${known.batchId}` : 'the store';
    if (!sameSeed) {
      this.events.problem(
        r.where,
        `serial ${label} is already in the store (${from}, state ${known.state}) with a different seed: a conflict, never overwritten; check which seed the token really has, and retire and remove the wrong one first`,
        r.serial,
        'seed-conflict',
      );
      return;
    }
    if (this.onDuplicate === 'fail') {
      this.events.problem(
        r.where,
        `serial ${label} is already in the store (${from}) with the same seed: use --on-duplicate skip to leave it, or update to take this file's settings`,
        r.serial,
        'duplicate-serial',
      );
      return;
    }
    if (this.onDuplicate === 'skip') {
      this.skipped++;
      return;
    }
    await this.update(known, r);
  }

  /** A serial met earlier in this same file: imported once when it is the same key, else a problem naming both places. */
  private repeatInFile(r: SeedRecord, known: TokenRecord, label: string, sameSeed: boolean, sameSpec: boolean): void {
    // A text format's row repeated with the same seed must also agree in counter and row facts (user, issuer ...), or one would be lost.
    const rowDiffers = this.repeatsCompareFacts && sameSeed && sameSpec ? rowDifference(known, r) : null;
    const first =
      typeof known.attributes.importedFrom === 'string' ? known.attributes.importedFrom : 'earlier in the file';
    if (rowDiffers) {
      this.events.problem(
        r.where,
        `serial ${label} appears twice in the file with the same seed but different ${rowDiffers}: first at ${first}; fix the file (which one is right?)`,
        r.serial,
        'duplicate-serial',
      );
      return;
    }
    const differs = sameSeed && sameSpec ? identityDifference(known.attributes, r.attributes) : null;
    if (differs) {
      this.events.problem(
        r.where,
        `serial ${label} appears twice in the file with the same seed but a different ${differs}: first at ${first}; two keys, or one listed twice? fix the file`,
        r.serial,
        'duplicate-serial',
      );
    } else if (sameSeed && sameSpec) {
      this.skipped++;
      this.events.skip(
        r.where,
        `serial ${label} repeats ${first} with the same seed and settings: imported once`,
        r.serial,
      );
    } else {
      this.events.problem(
        r.where,
        `serial ${label} appears twice in the file with ${sameSeed ? 'different settings' : 'different seeds'}: first at ${first}; fix the file (which one is right?)`,
        r.serial,
        'duplicate-serial',
      );
    }
  }

  private async update(known: TokenRecord, r: SeedRecord): Promise<void> {
    const patch = {
      // A token stored without a manufacturer takes the one now given (import --manufacturer, for Entra).
      ...(known.manufacturer === '' && r.manufacturer ? { manufacturer: r.manufacturer } : {}),
      model: r.model ?? known.model,
      type: r.type,
      algorithm: r.algorithm,
      digits: r.digits,
      period: r.period,
      counter: r.counter,
      counterExact: r.counterExact ?? null,
      t0: r.t0 ?? 0,
      checkDigit: r.checkDigit ?? false,
      driftSteps: r.driftSteps,
      attributes: { ...known.attributes, ...r.attributes },
      ...(this.resourceId !== null && known.resourceId === null ? { resourceId: this.resourceId } : {}),
    };
    await this.tx.tokens.update(known.id, patch);
    this.touched.add(known.id);
    this.updated++;
    await this.tx.audit.append({
      action: 'token.update',
      subject: `token:${known.serial}`,
      details: {
        batch: this.batchId,
        from: r.where,
        type: r.type,
        algorithm: r.algorithm,
        digits: r.digits,
        period: r.period,
        counter: r.counter,
        driftSteps: r.driftSteps,
      },
    });
  }
}

/** The optional code fields of a record, only where present (a plain token's row keeps its defaults). */
function codeFields(r: SeedRecord): { t0?: number; checkDigit?: boolean; counterExact?: string } {
  const out: { t0?: number; checkDigit?: boolean; counterExact?: string } = {};
  if (r.t0) out.t0 = r.t0;
  if (r.checkDigit) out.checkDigit = true;
  if (r.counterExact !== undefined) out.counterExact = r.counterExact;
  return out;
}

/** Attributes that tell two keys apart though serial and seed agree: the first that differs, or null. */
const IDENTITY_ATTRIBUTES: [string, string][] = [
  ['keyId', 'Key Id'],
  ['startDate', 'StartDate'],
  ['expiryDate', 'ExpiryDate'],
  ['deviceStartDate', 'device StartDate'],
  ['deviceExpiryDate', 'device ExpiryDate'],
  ['issueNo', 'IssueNo'],
];
function identityDifference(a: Record<string, unknown>, b: Record<string, unknown>): string | null {
  for (const [name, label] of IDENTITY_ATTRIBUTES) {
    if (JSON.stringify(a[name] ?? null) !== JSON.stringify(b[name] ?? null))
      return `${label} (${String(a[name] ?? 'none')} and ${String(b[name] ?? 'none')})`;
  }
  return null;
}
