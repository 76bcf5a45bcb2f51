import type { Command } from 'commander';
import type { SimulatorOptionName } from '../../../drivers/family.js';
import { outputOf } from '../context.js';
import { whenChosen } from './help.js';

/** The options some simulators take, by commander's key: their texts come from the families' simulator declarations. */
const PER_MODEL: Record<string, SimulatorOptionName> = {
  '--algorithm': 'algorithm',
  '--period': 'period',
  '--locked': 'locked',
  '--customer-key': 'customerKey',
  '--variant': 'variant',
};

/** The per-model option texts and the example, from the families, once `simulate` is chosen (the drivers stay off the start-up path). */
async function addFamilyParts(simulate: Command): Promise<void> {
  const [{ families }, { simulatorOptionText, simulatorExample }] = await Promise.all([
    import('../../../drivers/registry.js'),
    import('./device-help.js'),
  ]);
  const list = await families();
  for (const o of simulate.options) {
    const name = o.long ? PER_MODEL[o.long] : undefined;
    const text = name && simulatorOptionText(name, list);
    if (text) o.description = text;
  }
  const example = simulatorExample(list);
  if (example) simulate.addHelpText('after', `\nExample:\n  ${example.join('\n  ')}`);
}

export function registerSimulate(program: Command): void {
  const simulate = program.command('simulate <model>');
  whenChosen(program, simulate, () => addFamilyParts(simulate));
  simulate
    .description(
      'run a simulated token of any model (`tokensmith device models` lists them) on the virtual reader of vsmartcard vpcd, so the whole PC/SC stack runs without hardware',
    )
    .option('--vpcd [host:port]', 'plug into vpcd (default 127.0.0.1:35963, the reader "Virtual PCD 00 00")')
    .option('--serial <s>', 'the serial the token reports (its prefix gives the product)')
    .option(
      '--state <file>',
      'write what the token holds (seed, algorithm, period, display timeout, clock, failed authentications) as JSON after each command',
    )
    .option(
      '--cards <n>',
      'present n tokens one after another (serials counting up); each leaves the reader once it has been written and read back',
      '1',
    )
    .option('--clock-offset <s>', "the token's clock minus the host's before it is set, in seconds", '-90')
    .option('--seed <base32>', 'a seed the token already holds (test seeds only: it is written to --state)')
    .option('--algorithm <alg>', 'the algorithm it already has')
    .option('--period <s>', 'the time step it already has')
    .option('--locked', 'a locked key')
    .option('--customer-key <key>', 'the customer key it holds')
    .option('--variant <v>', 'which variant of the model')
    .option(
      '--pull-at <n>',
      'fault drill: take the token off the reader, unanswered, when the nth command arrives (then exit)',
    )
    .addHelpText(
      'after',
      "\nNeeds pcscd and vsmartcard-vpcd. Runs until Ctrl-C (or until the last of --cards has been written).\nAn option the model's simulator does not take is refused (exit 2), never ignored; `tokensmith device models` shows which each takes.",
    )
    .action(async (model: string, o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const out = outputOf(cmd);
      const { runSimulator } = await import('../../provision/simulate.js');
      await runSimulator(model, o, (line) => out.info(line));
    });
}
