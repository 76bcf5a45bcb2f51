/**
 * The host's readers as the bridge sees them. The real one is PC/SC through
 * nfc-pcsc (one context for the life of the server, opened on first use);
 * tests may give another hub (a simulator in memory) through the same shape.
 */
import type { ApduTransport } from '../transport/types.js';
import type { ReaderInfo } from '../transport/web/wire.js';

export interface ReaderHub {
  list(): Promise<ReaderInfo[]>;
  /** The token on the reader whose name contains `reader` (like --reader), waiting up to waitSeconds. */
  open(opts: { reader?: string; waitSeconds?: number }): Promise<ApduTransport>;
  close(): Promise<void>;
}

type PcscContextLike = Awaited<ReturnType<(typeof import('../transport/pcsc.js'))['PcscContext']['open']>>;

export class PcscReaderHub implements ReaderHub {
  private ctx: Promise<PcscContextLike> | null = null;

  private context(): Promise<PcscContextLike> {
    if (!this.ctx) {
      this.ctx = import('../transport/pcsc.js').then((m) => m.PcscContext.open());
      // A failure (pcscd down) is not kept: the next request tries again.
      this.ctx.catch(() => {
        this.ctx = null;
      });
    }
    return this.ctx;
  }

  async list(): Promise<ReaderInfo[]> {
    return (await this.context()).list();
  }

  async open(opts: { reader?: string; waitSeconds?: number }): Promise<ApduTransport> {
    return (await this.context()).select({ reader: opts.reader, waitSeconds: opts.waitSeconds ?? 0 });
  }

  async close(): Promise<void> {
    const ctx = this.ctx;
    this.ctx = null;
    if (ctx) await (await ctx.catch(() => null))?.close();
  }
}
