/** The terminal's prompter for `device` verbs (drivers/family.ts Prompter): @inquirer/prompts, loaded when first asked. */
import type { Prompter } from '../../drivers/family.js';

export const terminalPrompter: Prompter = {
  async select(o) {
    return (await import('@inquirer/prompts')).select(o);
  },
  async input(o) {
    return (await import('@inquirer/prompts')).input(o);
  },
  async confirm(o) {
    return (await import('@inquirer/prompts')).confirm(o);
  },
  async password(o) {
    return (await import('@inquirer/prompts')).password({ ...o, mask: '*' });
  },
};
