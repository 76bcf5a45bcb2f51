/** This family's step of `tokensmith demo`: flash a simulated card in memory, then check a code from its display. */
import { Token2Simulator } from '../../../../drivers/token2-nfc/simulator.js';
import { generateCode } from '../../../core/otp.js';
import { MemoryTransport } from '../../../transport/memory.js';
import type { DemoStep } from '../../demo-types.js';
import { verifyDevice } from './device.js';
import { flashToken, parseFlashInput } from './flash.js';

export const flashDemo: DemoStep = {
  title: 'Flash a simulated Token2 card (in memory, no reader needed)',
  async run(ctx) {
    const sim = new Token2Simulator({ model: 'token2-card', serial: '86596220000042', clockOffset: -90 });
    ctx.say(`a simulated OTPC-P2-i card, serial ${sim.serial}, lies on a reader; its clock is 90 s behind`);
    const transport = new MemoryTransport(sim, { readerName: 'Demo reader (in memory)' });
    const r = await flashToken(
      ctx.store,
      transport,
      parseFlashInput({ algorithm: 'sha256', period: '60', displayTimeout: '60' }),
      { onStep: (step) => ctx.say(`  ${step}`) },
    );
    ctx.say(
      `device flash: ${r.commands} commands (info, authenticate, config, authenticate, seed, info back); a fresh 32-byte seed from the CSPRNG`,
    );
    const s = sim.state();
    ctx.say(
      `the card now holds: ${s.algorithm}, ${s.period} s steps, display timeout ${s.displayTimeout} s, clock offset ${s.clockOffset} s, a ${s.seedBytes}-byte seed`,
    );
    ctx.say(
      `the store has token ${r.serial}: ${r.token.kind}, ${r.token.model}, state ${r.token.state}, flash batch ${r.batch}`,
    );
    const held = sim.heldSeed()!;
    const at = new Date(s.clock * 1000);
    const shown = generateCode(held, { type: 'totp', algorithm: 'sha256', digits: 6, period: 60, counter: 0 }, { at });
    held.fill(0);
    const v = await verifyDevice(ctx.store, transport, shown);
    ctx.say(
      `device verify --code ${shown} (read off the card's display): matches the stored seed, drift ${v.driftSteps} steps`,
    );
    ctx.facts.flashedSerial = r.serial;
  },
};
