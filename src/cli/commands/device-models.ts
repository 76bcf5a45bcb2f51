/** `tokensmith device models`: the families and models the registry knows (drivers/registry.ts), and what each can do. */
import type { Command } from 'commander';
import { outputOf, table } from '../context.js';

export function registerDeviceModels(device: Command): void {
  device
    .command('models')
    .description(
      'list the device families and their models: what `--model` and `simulate` accept, the simulator options each takes and the cassette operations each replays',
    )
    .addHelpText('after', '\nExample:\n  tokensmith device models --json')
    .action(async (_o: unknown, cmd: Command) => {
      const out = outputOf(cmd);
      const { families } = await import('../../../drivers/registry.js');
      const { SIMULATOR_OPTION_FLAGS } = await import('../../../drivers/family.js');
      const list = (await families()).map((f) => ({
        family: f.name,
        models: [...f.models],
        summary: f.summary,
        simulatorOptions: f.simulator ? f.simulator.options.map((k) => SIMULATOR_OPTION_FLAGS[k]) : null,
        cassetteOperations: [...f.operations],
      }));
      out.result({ families: list }, () =>
        table(
          ['FAMILY', 'MODELS', 'SIMULATOR OPTIONS', 'CASSETTE OPERATIONS'],
          list.map((f) => [
            f.family,
            f.models.join(', '),
            f.simulatorOptions ? f.simulatorOptions.join(' ') || '-' : 'no simulator',
            f.cassetteOperations.join(', '),
          ]),
        ),
      );
    });
}
