/**
 * Where an import's bytes come from. A regular file is read where it lies,
 * as often as the import needs (its head, its hash, the parse, a retried
 * transaction). A pipe, a process substitution (/dev/fd/63), /dev/stdin or
 * `-` can be read only once, so it is read into memory first, up to
 * MAX_STREAM_BYTES, and wiped after the import. A directory is a usage error.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { DataError, UsageError } from '../core/errors.js';

/** The most a stream that cannot seek may hold: read into memory, so bounded (a larger file is imported from disk). */
export const MAX_STREAM_BYTES = 256 * 1024 * 1024;

export interface SeedSource {
  /** The path as given (`-` for standard input). */
  path: string;
  /** The name used in messages and the batch: the file's base name, or "stdin". */
  name: string;
  size: number;
  /** The bytes of a stream that cannot seek; absent for a regular file, which is read from disk. */
  data?: Buffer;
}

/** Names of standard input. Node's child processes get a socket there, which /dev/stdin cannot open again (ENXIO). */
const STDIN_NAMES = new Set(['-', '/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

/** Opens what `import <file>` names: a regular file as it is, a pipe or `-` read into memory, a directory refused. */
export async function openSource(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<SeedSource> {
  if (STDIN_NAMES.has(file)) {
    const st = await stat(file).catch(() => null);
    // Redirected from a file (< seeds.xml): read it as that file; a pipe or socket: read it once, here.
    if (st?.isFile() && file !== '-') return { path: file, name: basename(file), size: st.size };
    return streamSource(file, 'stdin', stdin);
  }
  const st = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new DataError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, {
      code: 'no-file',
    });
  });
  if (st.isDirectory()) throw new UsageError(`${file} is a directory: give the seed file itself (one file per import)`);
  if (st.isFile()) return { path: file, name: basename(file), size: st.size };
  // A FIFO, a character device (/dev/stdin on a terminal) or a socket: no seeking, no size.
  return streamSource(file, basename(file), createReadStream(file));
}

async function streamSource(path: string, name: string, stream: NodeJS.ReadableStream): Promise<SeedSource> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += b.length;
      chunks.push(b);
      if (size > MAX_STREAM_BYTES)
        throw new DataError(
          `${name}: more than ${MAX_STREAM_BYTES / 1024 / 1024} MB arrived through a pipe; save it to a file and import that`,
          { code: 'too-large' },
        );
    }
    return { path, name, size, data: Buffer.concat(chunks, size) };
  } finally {
    // The pieces may hold seeds in clear: the one copy kept is wiped by wipeSource.
    for (const c of chunks) c.fill(0);
  }
}

/** Overwrites the bytes of a stream read into memory (they may hold seeds in clear). */
export function wipeSource(source: SeedSource): void {
  source.data?.fill(0);
}
