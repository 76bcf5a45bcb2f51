/** `user edit`, `user reset-password` and `user remove`: the admin's changes to a user after they were added. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { withStore } from '../context.js';
import { readPasswordLine } from '../password-stdin.js';

export function registerUserAdmin(user: Command): void {
  user
    .command('edit <login>')
    .description("change a user's email, phone or name (an empty value clears it)")
    .option('--email <e>', 'the new email (where portal sign-in codes go)')
    .option('--phone <p>', 'the new phone number')
    .option('--name <name>', 'the new display name')
    .addHelpText('after', '\nExample:\n  tokensmith user edit alice --email alice.smith@example.com --phone ""')
    .action(async (login: string, o: { email?: string; phone?: string; name?: string }, cmd: Command) => {
      if (o.email === undefined && o.phone === undefined && o.name === undefined)
        throw new UsageError('give at least one of --email, --phone, --name');
      await withStore(cmd, async (store, out) => {
        const { editUser } = await import('../../provision/users-admin.js');
        const { viewUser } = await import('../../provision/users.js');
        const v = await viewUser(store, await editUser(store, login, o));
        if (!v.canSignIn) out.warn(`user '${v.login}' has neither a password nor an email now: they cannot sign in`);
        out.result(v, `updated user ${v.login}`);
      });
    });

  user
    .command('reset-password <login>')
    .description("set a forgotten portal password anew (or clear it), ending all of the user's portal sessions")
    .option('--password-stdin', 'read the new password from the first line of stdin')
    .option('--clear', 'remove the password: the user signs in with a code sent to their email')
    .addHelpText('after', '\nExample:\n  printf "%s\\n" "$PW" | tokensmith user reset-password alice --password-stdin')
    .action(async (login: string, o: { passwordStdin?: boolean; clear?: boolean }, cmd: Command) => {
      if (Boolean(o.passwordStdin) === Boolean(o.clear))
        throw new UsageError('give one of --password-stdin and --clear');
      await withStore(cmd, async (store, out) => {
        const { resetPassword } = await import('../../provision/users-admin.js');
        const { viewUser } = await import('../../provision/users.js');
        const password = o.passwordStdin ? await readPasswordLine(out) : null;
        const r = await resetPassword(store, login, password);
        const v = await viewUser(store, r.user);
        if (!v.canSignIn) out.warn(`user '${v.login}' has neither a password nor an email now: they cannot sign in`);
        out.result(
          { ...v, sessionsEnded: r.sessionsEnded },
          `${o.clear ? 'cleared the password of' : 'set a new password for'} ${v.login}; ${r.sessionsEnded} portal session(s) ended`,
        );
      });
    });

  user
    .command('remove <login>')
    .description(
      'offboard a user: each token they hold is revoked (it leaves with them and stops working), their portal sessions end, and the user is deleted; the audit log keeps their history',
    )
    .addHelpText('after', '\nExample:\n  tokensmith user remove bob')
    .action(async (login: string, _o: unknown, cmd: Command) => {
      await withStore(cmd, async (store, out) => {
        const { removeUser } = await import('../../provision/users-admin.js');
        const r = await removeUser(store, login);
        out.result(
          r,
          `removed user ${r.login}${r.revoked.length ? `; revoked ${r.revoked.map((t) => `${t.serial} (was ${t.from})`).join(', ')}` : ''}`,
        );
      });
    });
}
