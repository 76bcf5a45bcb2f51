import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { globalsOf, withStore, type Output } from '../context.js';
import type { Store } from '../../store/types.js';

export function registerEnroll(program: Command): void {
  program
    .command('enroll')
    .summary('claim a token for a user with its code (the self-service flow, as the admin)')
    .description(
      "run the enrollment flow as the admin, on a user's behalf, with the Resource's rules (its Allowed Actions bind users in the portal, not the admin): claim a token with the code it shows now, or start a software token",
    )
    .requiredOption('--resource <name>', 'the Resource')
    .requiredOption('--user <login>', 'the user claiming the token')
    .option('--serial <serial>', 'the token (in the Resource stock, or assigned to this user and pending)')
    .option('--code <digits>', 'the code the token shows now')
    .option('--manufacturer <m>', 'when the serial exists for several manufacturers')
    .option(
      '--software',
      'start a software token (authenticator app): prints the otpauth URI and a QR code; confirm with --serial and the first --code',
    )
    .option(
      '--at <time>',
      'check the code against this time instead of now (ISO time or Unix seconds; for tests and helpdesk replays)',
    )
    .addHelpText(
      'after',
      '\nRefusals name the rule and exit 5: user outside the Resource, token type not allowed, a second token for the user,\na token of someone else, a code outside the window or used before, a token locked after too many failed codes.\n\nExamples:\n  tokensmith enroll --resource vpn --user alice --serial 1234567 --code 287082\n  tokensmith enroll --resource vpn --user alice --software',
    )
    .action(
      async (
        o: {
          resource: string;
          user: string;
          serial?: string;
          code?: string;
          manufacturer?: string;
          software?: boolean;
          at?: string;
        },
        cmd: Command,
      ) => {
        await withStore(cmd, async (store, out) => {
          const { claimToken } = await import('../../provision/enroll.js');
          const { parseAtTime } = await import('../../provision/tokens.js');
          const at = o.at ? parseAtTime(o.at) : undefined;
          if (o.software) {
            if (o.serial || o.code)
              throw new UsageError(
                '--software starts a new software token; confirm it afterwards with --serial <serial> --code <first code>',
              );
            await startSoftware(store, out, o, Boolean(globalsOf(cmd).yes));
            return;
          }
          if (!o.serial || !o.code) throw new UsageError('give --serial <serial> and --code <digits> (or --software)');
          const r = await claimToken(store, {
            resource: o.resource,
            login: o.user,
            serial: o.serial,
            code: o.code,
            manufacturer: o.manufacturer,
            at,
            via: 'admin',
          });
          out.result(
            r,
            `token ${r.serial} enrolled to ${r.user} in ${r.resource} (drift ${r.driftSteps} step${Math.abs(r.driftSteps) === 1 ? '' : 's'})`,
          );
        });
      },
    );
}

/** `enroll --software`: the otpauth URI and QR code; at a terminal, the first code is asked for and the token enrolled. */
async function startSoftware(store: Store, out: Output, o: { resource: string; user: string }, yes: boolean) {
  const { claimToken, startSoftwareToken } = await import('../../provision/enroll.js');
  const s = await startSoftwareToken(store, { resource: o.resource, login: o.user, via: 'admin' });
  const { toString: qr } = await import('qrcode');
  const picture = await qr(s.otpauthUri, { type: 'terminal', small: true });
  const confirm = `tokensmith enroll --resource ${s.resource} --user ${s.user} --serial ${s.serial} --code <first code>`;
  if (!out.json && out.interactive && !yes) {
    process.stdout.write(
      `${picture}\n${s.otpauthUri}\n\nScan it with the authenticator app, then type the first code it shows.\n`,
    );
    const { input } = await import('@inquirer/prompts');
    const code = await input({
      message: `First code for ${s.serial}`,
      validate: (v) => /^\d{6}$/.test(v.trim()) || 'six digits',
    });
    const r = await claimToken(store, { resource: s.resource, login: s.user, serial: s.serial, code, via: 'admin' });
    out.result(r, `software token ${r.serial} enrolled to ${r.user} in ${r.resource}`);
    return;
  }
  out.result(
    s,
    `${picture}\n${s.otpauthUri}\n\nsoftware token ${s.serial} is pending for ${s.user}; confirm it with:\n  ${confirm}`,
  );
}
