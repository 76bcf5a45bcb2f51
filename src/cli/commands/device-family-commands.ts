/**
 * A family's own device commands (`device <group> <command>`, declared in its
 * src/provision/families/<family>/ as a FamilyCommandGroup), registered the
 * same way for every family: --reader and --wait, the group's and the
 * command's options, an example; run through the device session with the
 * store open. No family is named here.
 */
import type { Command } from 'commander';
import { withStore } from '../context.js';
import type { FamilyCommand, FamilyCommandGroup } from '../../provision/families/contract.js';
import { openDevice, type DeviceOpts } from './device-run.js';

async function runCommand(familyName: string, command: FamilyCommand, o: DeviceOpts, cmd: Command): Promise<void> {
  await command.check?.(o);
  await withStore(cmd, async (store, out) => {
    const { runFamilyCommand } = await import('../../provision/device-session.js');
    await runFamilyCommand(familyName, command, o, { store, output: out }, (family) => openDevice(family, o, out));
  });
}

export function registerFamilyCommands(device: Command, familyName: string, group: FamilyCommandGroup): void {
  // A group a built-in command or an earlier family already took is left out: the first keeps its name.
  if (device.commands.some((c) => c.name() === group.name)) return;
  const parent = device.command(group.name).description(group.description);
  for (const command of group.commands) {
    const sub = parent
      .command(command.name)
      .description(command.description)
      .option('--reader <name>', 'use the reader whose name contains this (case-insensitive)')
      .option('--wait <s>', 'seconds to wait for the device', '10');
    for (const o of group.options ?? []) sub.option(o.flag, o.description);
    for (const o of command.options ?? [])
      if (o.required) sub.requiredOption(o.flag, o.description);
      else sub.option(o.flag, o.description);
    sub
      .addHelpText('after', `\nExample:\n  ${command.example}`)
      .action((o: DeviceOpts, cmd: Command) => runCommand(familyName, command, o, cmd));
  }
}
