/**
 * Where an export goes: a file written under a temporary name (mode 0600,
 * since it holds seeds; removed if the process is interrupted) and renamed
 * into place only when complete, never through a symbolic link, or stdout. Writes are buffered and respect backpressure, so memory stays flat.
 */
import type { WriteStream } from 'node:fs';
import { chown } from 'node:fs/promises';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { DataError } from '../core/errors.js';
import { commitTemp, dropTemp, lstatOrNull, openTempFor, refuseSymlink } from '../core/safe-file.js';

const FLUSH_AT = 64 * 1024;

export class ExportSink {
  private chunks: (string | Uint8Array)[] = [];
  private pending = 0;
  private failure: Error | null = null;

  private constructor(
    private readonly stream: NodeJS.WritableStream,
    /** The final path, or null for stdout. */
    readonly path: string | null,
    private readonly tempPath: string | null,
  ) {
    stream.on('error', (err: Error) => {
      this.failure = err;
    });
  }

  static async toFile(path: string): Promise<ExportSink> {
    const target = resolve(path);
    await refuseSymlink(target);
    let opened: Awaited<ReturnType<typeof openTempFor>>;
    try {
      opened = await openTempFor(target);
    } catch (err) {
      throw new DataError(
        `cannot write ${target}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (does the folder exist and is it writable?)`,
        {
          code: 'output',
        },
      );
    }
    return new ExportSink(opened.handle.createWriteStream(), target, opened.temp);
  }

  static toStream(stream: NodeJS.WritableStream): ExportSink {
    return new ExportSink(stream, null, null);
  }

  async write(data: string | Uint8Array): Promise<void> {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.pending += data.length;
    if (this.pending >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    this.throwIfFailed();
    if (this.chunks.length === 0) return;
    const buf = Buffer.concat(this.chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
    this.chunks = [];
    this.pending = 0;
    if (!this.stream.write(buf)) await once(this.stream, 'drain');
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure)
      throw new DataError(`writing ${this.path ?? 'stdout'} failed: ${this.failure.message}`, { code: 'output' });
  }

  /** Flushes, closes and moves the file into place. */
  async commit(): Promise<void> {
    await this.flush();
    if (this.tempPath === null) return;
    const ws = this.stream as WriteStream;
    ws.end();
    await once(ws, 'close');
    this.throwIfFailed();
    await keepOwner(this.tempPath, this.path!);
    await commitTemp(this.tempPath, this.path!);
  }

  /** Drops what was written: nothing half-done is left behind. */
  async abort(): Promise<void> {
    this.chunks = [];
    if (this.tempPath === null) return;
    const ws = this.stream as WriteStream;
    if (!ws.closed) {
      const closed = once(ws, 'close').catch(() => undefined);
      ws.destroy();
      await closed;
    }
    await dropTemp(this.tempPath);
  }
}

/** As root, a file written over keeps its owner (a users file that pam_oath in radiusd reads as freerad). */
async function keepOwner(temp: string, target: string): Promise<void> {
  if (process.getuid?.() !== 0) return;
  const before = await lstatOrNull(target);
  if (before) await chown(temp, before.uid, before.gid);
}
