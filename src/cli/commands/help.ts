/**
 * `tokensmith help [command]`, ours instead of commander's built-in one: the built-in shows a command's help
 * without choosing it, so what a command adds to itself once chosen (the device families' flags, groups and
 * examples, loaded then so that `--version` and `--help` stay fast) was missing from `help device`. Here choosing
 * a command and asking `help` for it run the same step first.
 */
import type { Command } from 'commander';

/** Each command's step before it parses or shows its help (whenChosen). */
const preparers = new WeakMap<Command, () => Promise<void>>();

/** Runs `prepare` once, before `cmd` parses (it was chosen) or before `help <cmd>` shows its help. */
export function whenChosen(program: Command, cmd: Command, prepare: () => Promise<void>): void {
  let done: Promise<void> | undefined;
  const once = () => (done ??= prepare());
  preparers.set(cmd, once);
  program.hook('preSubcommand', async (_program, sub) => {
    if (sub === cmd) await once();
  });
}

/** `help [command]`, registered last so `--help` lists it last, as commander lists its own; it prints `<command> --help`. */
export function registerHelpCommand(program: Command): void {
  program
    .command('help [command]')
    .description('display help for command')
    // As the built-in: no options of its own, and what follows the command's name is ignored.
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async (name: string | undefined) => {
      // `help --help` too: the program's help.
      if (!name || name.startsWith('-')) program.help();
      const cmd = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
      // An unknown name: the program's help on stderr, as the built-in does.
      if (!cmd) program.help({ error: true });
      await preparers.get(cmd)?.();
      cmd.help();
    });
}
