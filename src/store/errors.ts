/**
 * Errors the store itself raises about facts of the data. Rules (what a
 * person may or may not do: exit 5) live in src/provision, which turns these
 * facts into the PolicyError a user sees.
 */
import { DataError, TokensmithError } from '../core/errors.js';

/** A write the database refused because it would break a uniqueness rule of the schema. */
export class StoreConflictError extends TokensmithError {
  constructor(
    /** Which uniqueness rule: 'assignment' is one user per token and one token per user in a Resource. */
    readonly conflict: 'assignment',
    message: string,
    cause?: unknown,
  ) {
    super(message, { code: `${conflict}-conflict`, cause });
  }
}

/** The assignments table's unique constraints refused a new assignment. */
export function assignmentConflict(cause: unknown): StoreConflictError {
  return new StoreConflictError(
    'assignment',
    'the token already has a user, or the user already has a token in this Resource',
    cause,
  );
}

/** A reading command (or any that cannot add to an empty store) named a database that is not there: nothing is created. */
export function noDatabaseError(location: string): DataError {
  return new DataError(
    `no database at ${location}: nothing was created. Check --db or TOKENSMITH_DB; a command that adds to the store ` +
      '(tokens add, import, resource create, user add, device flash, db migrate, ...) creates a new one',
    { code: 'no-database', where: location },
  );
}
