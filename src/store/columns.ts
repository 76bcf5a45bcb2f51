import type { TokenPatch } from './types.js';

/** Which column each token patch field is stored in: the same in every backend's schema. */
export const TOKEN_COLUMNS: Record<Exclude<keyof TokenPatch, 'seed'>, string> = {
  model: 'model',
  kind: 'kind',
  type: 'type',
  algorithm: 'algorithm',
  digits: 'digits',
  period: 'period',
  counter: 'counter',
  state: 'state',
  previousState: 'previous_state',
  driftSteps: 'drift_steps',
  batchId: 'batch_id',
  resourceId: 'resource_id',
  deviceSerial: 'device_serial',
  profile: 'profile',
  failedAttempts: 'failed_attempts',
  locked: 'locked',
  lastUsedStep: 'last_used_step',
  attributes: 'attributes',
};
