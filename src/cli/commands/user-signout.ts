import type { Command } from 'commander';
import { withStore } from '../context.js';

/** `tokensmith user signout <login> [--resource] [--forget-token]`: ends the user's portal sessions. */
export function registerUserSignout(user: Command): void {
  user
    .command('signout <login>')
    .description("end the user's portal sessions (in one Resource, or everywhere)")
    .option('--resource <name>', 'only the sessions in this Resource')
    .option(
      '--forget-token',
      'also let the user sign in without a token code where they held a token that is no longer in use',
    )
    .addHelpText(
      'after',
      '\nA user who held an enrolled token in a Resource keeps needing a token code there after the token is\n' +
        'disabled, lost or given back: they sign in with the code of the token an admin assigns next, or, after\n' +
        '--forget-token, with the password (or emailed code) alone.\n\nExample:\n  tokensmith user signout alice --resource vpn',
    )
    .action(async (login: string, o: { resource?: string; forgetToken?: boolean }, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { signOutUser } = await import('../../provision/portal-signout.js');
        const r = await signOutUser(store, login, o);
        const where = r.resource ? ` in ${r.resource}` : '';
        const forgot = o.forgetToken ? `; no token code asked any more in ${r.holdsDropped} Resource(s)` : '';
        out.result(r, `ended ${r.sessionsEnded} portal session(s) of ${r.login}${where}${forgot}`);
      });
    });
}
