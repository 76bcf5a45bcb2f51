/**
 * Row mappers shared by both dialects: a database row (snake_case columns,
 * the same names on SQLite and PostgreSQL) to the records of types.ts.
 */
import type { TokenState } from '../../core/states.js';
import { optionalTokenFields } from '../columns.js';
import type {
  AssignmentRecord,
  BatchRecord,
  ResourceRecord,
  SignInCodeRecord,
  TokenRecord,
  UserRecord,
} from '../types.js';

export type Row = Record<string, unknown>;

export function toToken(r: Row): TokenRecord {
  return {
    id: r.id as number,
    serial: r.serial as string,
    manufacturer: r.manufacturer as string,
    model: (r.model as string | null) ?? null,
    kind: r.kind as TokenRecord['kind'],
    type: r.type as TokenRecord['type'],
    algorithm: r.algorithm as TokenRecord['algorithm'],
    digits: r.digits as number,
    period: r.period as number,
    counter: r.counter as number,
    state: r.state as TokenState,
    previousState: (r.previous_state as TokenState | null) ?? null,
    driftSteps: r.drift_steps as number,
    hasSeed: r.sealed_seed != null,
    batchId: (r.batch_id as number | null) ?? null,
    resourceId: (r.resource_id as number | null) ?? null,
    deviceSerial: (r.device_serial as string | null) ?? null,
    profile: (r.profile as number | null) ?? null,
    failedAttempts: r.failed_attempts as number,
    // 0/1 in SQLite's INTEGER, a boolean in PostgreSQL.
    locked: r.locked === 1 || r.locked === true,
    lastUsedStep: (r.last_used_step as number | null) ?? null,
    attributes: JSON.parse((r.attributes as string) || '{}') as Record<string, unknown>,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
    stateChangedAt: (r.state_changed_at ?? r.updated_at) as string,
    ...optionalTokenFields(r),
  };
}

export function toBatch(r: Row): BatchRecord {
  return {
    id: r.id as number,
    kind: r.kind as BatchRecord['kind'],
    sourceName: (r.source_name as string | null) ?? null,
    sourceSha256: (r.source_sha256 as string | null) ?? null,
    format: (r.format as string | null) ?? null,
    imported: r.imported as number,
    skipped: r.skipped as number,
    failed: r.failed as number,
    operator: r.operator as string,
    status: r.status as BatchRecord['status'],
    createdAt: r.created_at as string,
    finishedAt: (r.finished_at as string | null) ?? null,
  };
}

export function toResource(r: Row): ResourceRecord {
  return {
    id: r.id as number,
    name: r.name as string,
    url: (r.url as string | null) ?? null,
    lockAfter: r.lock_after as number,
    window: r.window as number,
    syncWindow: r.sync_window as number,
    actions: JSON.parse(r.actions as string) as ResourceRecord['actions'],
    tokenTypes: JSON.parse(r.token_types as string) as ResourceRecord['tokenTypes'],
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

export function toUser(r: Row): UserRecord {
  return {
    id: r.id as number,
    login: r.login as string,
    name: (r.name as string | null) ?? null,
    email: (r.email as string | null) ?? null,
    phone: (r.phone as string | null) ?? null,
    passwordHash: (r.password_hash as string | null) ?? null,
    createdAt: r.created_at as string,
    updatedAt: r.updated_at as string,
  };
}

export function toAssignment(r: Row): AssignmentRecord {
  return {
    id: r.id as number,
    tokenId: r.token_id as number,
    userId: r.user_id as number,
    resourceId: r.resource_id as number,
    createdAt: r.created_at as string,
    enrolledAt: (r.enrolled_at as string | null) ?? null,
  };
}

export function toSignInCode(r: Row): SignInCodeRecord {
  return {
    id: r.id as number,
    userId: r.user_id as number,
    resourceId: r.resource_id as number,
    codeHash: r.code_hash as string,
    expiresAt: r.expires_at as string,
    usedAt: (r.used_at as string | null) ?? null,
    attempts: r.attempts as number,
    createdAt: r.created_at as string,
  };
}
