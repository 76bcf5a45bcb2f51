/**
 * `device molto2 lock|unlock|set-key|factory-reset`: Molto2 device settings
 * (not per-profile, so not `device <verb>`s).
 */
import type { Command } from 'commander';
import { withStore } from '../context.js';
import { openDevice, type DeviceOpts } from './device-run.js';

type Opts = DeviceOpts;

const reader = (c: Command) =>
  c
    .option('--reader <name>', 'use the reader whose name contains this (case-insensitive)')
    .option('--wait <s>', 'seconds to wait for the device', '10')
    .option('--customer-key <key>', 'the customer key, 32 hex digits or text (default: the factory key)');

export function registerMolto2Commands(device: Command): void {
  const molto2 = device
    .command('molto2')
    .description('Molto2 device settings: lock or unlock the screen, change the customer key, factory reset');
  for (const [name, desc] of [
    ['lock', 'lock the screen (firmware 2.1+)'],
    ['unlock', 'unlock the screen (firmware 2.1+)'],
  ] as const) {
    reader(molto2.command(name))
      .description(desc)
      .addHelpText('after', `\nExample:\n  tokensmith device molto2 ${name}`)
      .action((o: Opts, cmd: Command) => molto2Admin(cmd, o, { kind: name }));
  }
  reader(molto2.command('set-key'))
    .description(
      'change the customer key (the device asks for the ▲ button); keep the new key: every later command needs it',
    )
    .requiredOption('--new-customer-key <key>', 'the new key, 32 hex digits or text; never logged')
    .addHelpText('after', '\nExample:\n  tokensmith device molto2 set-key --new-customer-key "$(cat molto2.key)"')
    .action((o: Opts, cmd: Command) => molto2Admin(cmd, o, { kind: 'set-key', newKey: o.newCustomerKey as string }));
  reader(molto2.command('factory-reset'))
    .description(
      'erase every profile and restore the factory customer key (the device asks for the ▲ button); needs --force',
    )
    .option('--force', 'yes, erase every profile')
    .addHelpText('after', '\nExample:\n  tokensmith device molto2 factory-reset --force')
    .action(async (o: Opts, cmd: Command) => {
      if (!o.force) {
        const { PolicyError } = await import('../../core/errors.js');
        throw new PolicyError(
          'refused: a factory reset erases every profile of the Molto2 and restores the factory customer key; add --force to do it',
          { code: 'force-needed' },
        );
      }
      await molto2Admin(cmd, o, { kind: 'factory-reset' });
    });
}

async function molto2Admin(
  cmd: Command,
  o: Opts,
  action: Parameters<typeof import('../../provision/families/token2-molto2/profile-admin.js').molto2Admin>[2],
): Promise<void> {
  await withStore(cmd, async (store, out) => {
    const transport = await openDevice(undefined, o, out);
    try {
      const { molto2Admin: run } = await import('../../provision/families/token2-molto2/profile-admin.js');
      const r = await run(store, transport, action, { customerKey: o.customerKey as string | undefined });
      const press = r.waitingForButton ? ': the Molto2 now waits: press the ▲ button on it to confirm' : '';
      const words = {
        lock: 'screen locked',
        unlock: 'screen unlocked',
        'set-key': 'new customer key sent',
        'factory-reset': 'factory reset requested',
      }[r.action as 'lock'];
      out.result(r, `Molto2 ${r.deviceSerial}: ${words}${press}`);
    } finally {
      await transport.close();
    }
  });
}
