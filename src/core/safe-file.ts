/**
 * Writing files that can hold seeds: never through a symbolic link at the
 * destination, always a new file (mode 0600 unless told otherwise, so an old
 * file's wider mode is not kept) made under a temporary name in the same
 * folder and renamed into place, and temporary files removed when the
 * process is interrupted (SIGINT, SIGTERM) half-way.
 */
import { constants, lstatSync, openSync, closeSync, writeSync, renameSync, unlinkSync, type Stats } from 'node:fs';
import { lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { PolicyError } from './errors.js';

/** Create-only, write-only, and fail (ELOOP) rather than follow a link. */
const NEW_FILE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

export class SymlinkRefusedError extends PolicyError {
  constructor(path: string) {
    super(
      `${path} is a symbolic link: tokensmith does not write through links (remove the link or write somewhere else)`,
      { code: 'symlink' },
    );
  }
}

function notFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/** What is at `path` (not following a link), or null when nothing is. */
export async function lstatOrNull(path: string): Promise<Stats | null> {
  try {
    return await lstat(path);
  } catch (err) {
    if (notFound(err)) return null;
    throw err;
  }
}

/** Refuses a destination that is a symbolic link. */
export async function refuseSymlink(path: string): Promise<void> {
  if ((await lstatOrNull(path))?.isSymbolicLink()) throw new SymlinkRefusedError(path);
}

export function refuseSymlinkSync(path: string): void {
  let st: Stats | null = null;
  try {
    st = lstatSync(path);
  } catch (err) {
    if (!notFound(err)) throw err;
  }
  if (st?.isSymbolicLink()) throw new SymlinkRefusedError(path);
}

/** A fresh temporary name beside `target`, so the final rename stays in one file system. */
export function tempPathFor(target: string): string {
  const t = resolve(target);
  return join(dirname(t), `.${basename(t)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

// Temporary files alive now; removed on SIGINT/SIGTERM, as they can hold seeds.
const liveTemps = new Set<string>();
const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

function removeTempsAndExit(signal: keyof typeof SIGNAL_EXIT): void {
  for (const p of liveTemps) {
    try {
      unlinkSync(p);
    } catch {
      // Already gone.
    }
  }
  liveTemps.clear();
  process.stderr.write(`\ntokensmith: interrupted (${signal}); temporary files removed\n`);
  process.exit(SIGNAL_EXIT[signal]);
}
const onSigint = () => removeTempsAndExit('SIGINT');
const onSigterm = () => removeTempsAndExit('SIGTERM');

/** Remembers a temporary file until untrackTemp; the signal handlers exist only while one does. */
export function trackTemp(path: string): void {
  if (liveTemps.size === 0) {
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
  }
  liveTemps.add(path);
}

export function untrackTemp(path: string): void {
  if (!liveTemps.delete(path) || liveTemps.size > 0) return;
  process.off('SIGINT', onSigint);
  process.off('SIGTERM', onSigterm);
}

/** Opens a new temporary file beside `target` (exclusive, no link followed), tracked until committed or dropped. */
export async function openTempFor(target: string, mode = 0o600): Promise<{ temp: string; handle: FileHandle }> {
  const temp = tempPathFor(target);
  trackTemp(temp);
  try {
    return { temp, handle: await open(temp, NEW_FILE_FLAGS, mode) };
  } catch (err) {
    untrackTemp(temp);
    throw err;
  }
}

/** Moves a finished temporary file onto `target`, refusing a link there. */
export async function commitTemp(temp: string, target: string): Promise<void> {
  try {
    await refuseSymlink(target);
    await rename(temp, target);
  } finally {
    untrackTemp(temp);
  }
}

export async function dropTemp(temp: string): Promise<void> {
  await unlink(temp).catch(() => undefined);
  untrackTemp(temp);
}

/** Writes `data` to `target` as a new file (temporary name, then rename); a link at `target` is refused. */
export async function writeFileSafely(target: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  await refuseSymlink(target);
  const { temp, handle } = await openTempFor(target, mode);
  try {
    await handle.writeFile(data);
    await handle.close();
    await commitTemp(temp, target);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await dropTemp(temp);
    throw err;
  }
}

/** writeFileSafely for synchronous callers (state files written between device frames). */
export function writeFileSafelySync(target: string, data: string | Uint8Array, mode = 0o600): void {
  refuseSymlinkSync(target);
  const temp = tempPathFor(target);
  trackTemp(temp);
  try {
    const fd = openSync(temp, NEW_FILE_FLAGS, mode);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    } finally {
      closeSync(fd);
    }
    refuseSymlinkSync(target);
    renameSync(temp, target);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // Never created, or already renamed.
    }
    throw err;
  } finally {
    untrackTemp(temp);
  }
}
