/** `enrollment inspect`: read a package file, check it, summarise it without secrets. */
import { readFile } from 'node:fs/promises';
import { DataError } from '../core/errors.js';
import { decodeEnrollmentPackage, summarisePackage, type PackageSummary } from './enrollment.js';

export async function inspectEnrollmentFile(path: string): Promise<PackageSummary> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new DataError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      code: 'not-found',
    });
  }
  return summarisePackage(decodeEnrollmentPackage(bytes, path));
}
