/** The protectimus family's provision code: its verbs (no flash: the seed write is not public). */
import type { ProvisionFamily } from '../contract.js';
import { protectimusVerbs } from './verbs.js';

export const protectimus: ProvisionFamily = { name: 'protectimus', verbs: protectimusVerbs };
