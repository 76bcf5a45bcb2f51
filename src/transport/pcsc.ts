/**
 * PC/SC readers through nfc-pcsc (an optional native dependency, loaded
 * lazily), with automatic processing off: tokensmith sends every APDU itself.
 * Reader choice: --reader NAME matches a part of the reader name; among the
 * matches the one with a token on it is used; several with a token -> list
 * them and ask for a more precise --reader; none -> wait up to --wait seconds
 * for a token, then fail with a clear message.
 */
import { DeviceError, UsageError } from '../core/errors.js';
import { CardRemovedError, NoReaderError, NoTokenError, PcscUnavailableError, TransmitTimeoutError } from './errors.js';
import { pcscdSocketPath, pcscdUp } from './pcscd.js';
import { DEFAULT_TRANSMIT_TIMEOUT_MS, type ApduTransport, type TransmitOptions } from './types.js';

/* The parts of nfc-pcsc we use (it ships no types). */
interface NfcReader {
  name: string;
  autoProcessing: boolean;
  card: { atr?: Buffer } | null;
  transmit(data: Buffer, maxLen: number): Promise<Buffer>;
  close(): void;
  on(ev: string, fn: (...a: any[]) => void): void;
  off(ev: string, fn: (...a: any[]) => void): void;
  reader: { close(): void };
}
interface NfcInstance {
  on(ev: string, fn: (...a: any[]) => void): void;
  close(): void;
}

/** How long readers and tokens already present take to show up after start. */
const SETTLE_MS = 600;
const MAX_RESPONSE = 1024;

interface ReaderState {
  reader: NfcReader;
  atr: Uint8Array | null;
}

/** One nfc-pcsc context: the readers it sees and whether a token is on each. */
export class PcscContext {
  private readonly readers = new Map<string, ReaderState>();
  private readonly cardWaiters = new Set<() => void>();
  private closed = false;

  private constructor(private readonly nfc: NfcInstance) {}

  static async open(): Promise<PcscContext> {
    if (!(await pcscdUp())) {
      throw new PcscUnavailableError(
        `the PC/SC daemon (pcscd) is not running (no answer on ${pcscdSocketPath()}): start it with \`sudo systemctl start pcscd\`, or \`sudo pcscd\`, and plug in the reader`,
      );
    }
    let NFC: new () => NfcInstance;
    try {
      ({ NFC } = (await import('nfc-pcsc' as string)) as { NFC: new () => NfcInstance });
    } catch (e) {
      throw new PcscUnavailableError(
        'nfc-pcsc (the optional PC/SC module) is not installed or failed to build: install libpcsclite-dev and a C++ toolchain, then run `npm install nfc-pcsc`',
        e,
      );
    }
    const ctx = new PcscContext(new NFC());
    ctx.nfc.on('error', () => {
      // nfc.close() always reports "Command cancelled"; reader errors arrive on the readers.
    });
    ctx.nfc.on('reader', (r: NfcReader) => ctx.addReader(r));
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return ctx;
  }

  private addReader(r: NfcReader): void {
    // Must be set before nfc-pcsc looks at a token, or it sends its own commands.
    r.autoProcessing = false;
    const state: ReaderState = { reader: r, atr: r.card?.atr ? Uint8Array.from(r.card.atr) : null };
    this.readers.set(r.name, state);
    r.on('card', (card: { atr?: Buffer }) => {
      state.atr = card?.atr ? Uint8Array.from(card.atr) : new Uint8Array();
      for (const w of [...this.cardWaiters]) w();
    });
    r.on('card.off', () => {
      state.atr = null;
    });
    r.on('error', () => {
      // Surfaced through transmit; the status thread reports removal races here too.
    });
    r.on('end', () => {
      this.readers.delete(r.name);
    });
  }

  list(): { name: string; token: boolean; atr: string | null }[] {
    return [...this.readers.values()].map((s) => ({
      name: s.reader.name,
      token: s.atr !== null,
      atr: s.atr ? Buffer.from(s.atr).toString('hex').toUpperCase() : null,
    }));
  }

  /** Picks the reader with a token, waiting up to `waitSeconds` (see the module comment). */
  async select(
    opts: { reader?: string; waitSeconds?: number; onWaiting?: (readers: string[]) => void } = {},
  ): Promise<PcscTransport> {
    const want = opts.reader?.toLowerCase();
    const matching = () =>
      [...this.readers.values()].filter((s) => !want || s.reader.name.toLowerCase().includes(want));
    if (matching().length === 0) {
      const all = [...this.readers.keys()];
      throw new NoReaderError(
        all.length === 0
          ? 'no PC/SC reader found: plug in the NFC reader (and check that pcscd sees it: `pcsc_scan`)'
          : `no reader matches --reader "${opts.reader}"; the readers are: ${all.map((n) => `"${n}"`).join(', ')}`,
      );
    }
    const withToken = () => matching().filter((s) => s.atr !== null);
    let found = withToken();
    if (found.length === 0) {
      opts.onWaiting?.(matching().map((s) => s.reader.name));
      const waitMs = Math.max(0, (opts.waitSeconds ?? 10) * 1000);
      found = await new Promise<ReaderState[]>((resolve) => {
        const done = () => {
          const now = withToken();
          if (now.length === 0) return;
          clearTimeout(timer);
          this.cardWaiters.delete(done);
          resolve(now);
        };
        const timer = setTimeout(() => {
          this.cardWaiters.delete(done);
          resolve([]);
        }, waitMs);
        this.cardWaiters.add(done);
      });
      if (found.length === 0) {
        throw new NoTokenError(
          `no token on ${matching()
            .map((s) => `"${s.reader.name}"`)
            .join(
              ' or ',
            )} after ${opts.waitSeconds ?? 10} s: put the card or key fob flat on the reader and run the command again (or give a longer --wait)`,
        );
      }
    }
    if (found.length > 1) {
      throw new UsageError(
        `tokens are on ${found.length} readers: ${found.map((s) => `"${s.reader.name}"`).join(', ')}; say which one with a more precise --reader`,
        'several-tokens',
      );
    }
    return new PcscTransport(found[0]!);
  }

  /** Closes every reader, then the context (closing the context alone keeps the process alive). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of [...this.readers.values()]) {
      // Let queued status events reach JS first: the native close() joins the reader's status
      // thread, which (after a token was removed) may be waiting for the main thread; without
      // this yield close() blocks forever.
      await new Promise((r) => setTimeout(r, 20));
      try {
        s.reader.close();
      } catch {
        // already closed
      }
    }
    try {
      this.nfc.close();
    } catch {
      // already closed
    }
  }
}

export class PcscTransport implements ApduTransport {
  readonly kind = 'pcsc';
  readonly readerName: string;
  readonly atr: Uint8Array;
  private present = true;
  private readonly listeners = new Set<() => void>();
  private readonly reader: NfcReader;
  private readonly onCardOff = () => {
    if (!this.present) return;
    this.present = false;
    for (const l of [...this.listeners]) l();
  };
  /** Set by openPcscTransport: closing the transport closes its context. */
  context: PcscContext | null = null;

  constructor(state: ReaderState) {
    this.reader = state.reader;
    this.readerName = state.reader.name;
    this.atr = state.atr ?? new Uint8Array();
    this.reader.on('card.off', this.onCardOff);
  }

  async transmit(apdu: Uint8Array, opts: TransmitOptions = {}): Promise<Uint8Array> {
    if (!this.present) throw new CardRemovedError(this.readerName);
    const ms = opts.timeoutMs ?? DEFAULT_TRANSMIT_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    try {
      // nfc-pcsc throws synchronously when no card is connected: call it inside the try.
      const sent = this.reader.transmit(Buffer.from(apdu), MAX_RESPONSE);
      const resp = await Promise.race([
        sent,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new TransmitTimeoutError(this.readerName, ms)), ms);
        }),
      ]);
      // A card that vanishes mid-command comes back as an empty success.
      if (resp.length < 2) {
        this.present = false;
        throw new CardRemovedError(this.readerName);
      }
      return Uint8Array.from(resp);
    } catch (e) {
      if (e instanceof TransmitTimeoutError || e instanceof CardRemovedError) throw e;
      const text = `${(e as Error).message} ${(e as { previous?: Error }).previous?.message ?? ''}`;
      // Removed, transaction failed, or no card: the token left the field.
      if (/removed|Transaction failed|No card|not connected|0x80100069|0x80100016/i.test(text)) {
        this.present = false;
        throw new CardRemovedError(this.readerName, e);
      }
      throw new DeviceError(
        `sending a command to the token on ${this.readerName} failed: ${text.trim()}; lift the token off the reader, put it back and try again`,
        {
          code: 'transmit-failed',
          cause: e,
        },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  isPresent(): boolean {
    return this.present;
  }

  onRemoved(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
    // The reader outlives this transport in a long-lived context (the station's bridge): one listener per token otherwise.
    this.reader.off('card.off', this.onCardOff);
    await this.context?.close();
  }
}

/** Opens PC/SC, picks the reader, and returns a transport that closes everything with it. */
export async function openPcscTransport(
  opts: { reader?: string; waitSeconds?: number; onWaiting?: (readers: string[]) => void } = {},
): Promise<PcscTransport> {
  const ctx = await PcscContext.open();
  try {
    const t = await ctx.select(opts);
    t.context = ctx;
    return t;
  } catch (e) {
    await ctx.close();
    throw e;
  }
}

export async function listPcscReaders(): Promise<{ name: string; token: boolean; atr: string | null }[]> {
  const ctx = await PcscContext.open();
  try {
    return ctx.list();
  } finally {
    await ctx.close();
  }
}
