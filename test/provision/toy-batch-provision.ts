/**
 * The throw-away family's provision module with a `batch` line added (the
 * only thing a family gives for `device flash --batch`): loaded instead of
 * toy-family/provision.ts by test/provision/batch-families.test.ts.
 */
import type { ProvisionFamily } from '../../src/provision/families/contract.js';
import { provisionFamily as toy } from './toy-family/provision.js';

export const provisionFamily: ProvisionFamily = {
  ...toy,
  batch: { loop: 'flasher', users: false, what: 'toy tokens' },
};
