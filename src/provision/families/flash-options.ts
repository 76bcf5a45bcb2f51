/** Checks of the flash options every family's settings share, before any device is opened. */
import { UsageError } from '../../core/errors.js';

/** --user gives the token to a user within a Resource: refused without --resource. */
export function refuseUserWithoutResource(raw: { user?: string; resource?: string }): void {
  if (raw.user && !raw.resource)
    throw new UsageError(
      '--user needs --resource: a token is assigned to a user within a Resource',
      'user-needs-resource',
    );
}
