/**
 * The verification code is computed from tokensmith's idea of the server's time, which comes from a Date
 * header in whole seconds (so it may run up to half a second ahead or behind). Whatever that error and
 * whatever the request's delay, the code must be of the step the server is in or the one before (the steps
 * Entra, and the local stand-in, accept). A CI run found the edge: a code for the next step, sent 0.4 s early.
 */
import { describe, expect, it } from 'vitest';
import { waitForSafeStepMs } from '../../src/entra/push-assign.js';

const PERIOD = 30;

describe('when the activation code is computed', () => {
  it('is never of a step the server has not reached, nor two behind it', () => {
    const bad: string[] = [];
    for (let tMs = 0; tMs < PERIOD * 2000; tMs += 37) {
      for (const errorMs of [-500, -250, 0, 250, 499]) {
        for (const delayMs of [0, 400, 2000]) {
          const wait = waitForSafeStepMs(tMs + errorMs, PERIOD);
          const codeStep = Math.floor((tMs + errorMs + wait) / 1000 / PERIOD);
          const serverStep = Math.floor((tMs + wait + delayMs) / 1000 / PERIOD);
          if (serverStep !== codeStep && serverStep !== codeStep + 1)
            bad.push(`t=${tMs} error=${errorMs} delay=${delayMs}: code step ${codeStep}, server ${serverStep}`);
        }
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('waits only near the edges of a step, and never longer than the margins', () => {
    expect(waitForSafeStepMs(10_000, PERIOD)).toBe(0);
    expect(waitForSafeStepMs(29_000, PERIOD)).toBe(2500);
    expect(Math.abs(waitForSafeStepMs(30_200, PERIOD) - 1300)).toBeLessThanOrEqual(1);
    for (let t = 0; t < PERIOD * 1000; t += 100) expect(waitForSafeStepMs(t, PERIOD)).toBeLessThanOrEqual(4500);
  });
});
