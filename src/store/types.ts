/**
 * The store's repository interface. Services talk to these types only; SQL
 * lives behind them (src/store/sqlite today), so another backend can be added
 * without touching a service.
 */
import type { DirectoryRepo } from './directory-types.js';
import type { AssignmentRecord, TokenRepo } from './types-tokens.js';

export * from './directory-types.js';

export type {
  AssignmentRecord,
  InventoryFilter,
  InventoryRow,
  NewToken,
  TokenFilter,
  TokenPatch,
  TokenRecord,
  TokenRepo,
  TokenWithSeed,
} from './types-tokens.js';

export interface BatchRecord {
  id: number;
  kind: 'import' | 'flash';
  sourceName: string | null;
  sourceSha256: string | null;
  format: string | null;
  imported: number;
  skipped: number;
  failed: number;
  operator: string;
  status: 'open' | 'done' | 'aborted';
  createdAt: string;
  finishedAt: string | null;
}

export interface BatchRepo {
  create(b: {
    kind: BatchRecord['kind'];
    sourceName?: string | null;
    sourceSha256?: string | null;
    format?: string | null;
    operator: string;
  }): Promise<BatchRecord>;
  finish(
    id: number,
    counts: { imported: number; skipped: number; failed: number },
    status?: BatchRecord['status'],
  ): Promise<BatchRecord>;
  get(id: number): Promise<BatchRecord | null>;
  findBySha256(sha256: string): Promise<BatchRecord[]>;
  list(): Promise<BatchRecord[]>;
}

export const TOKEN_ACTIONS = [
  'enroll',
  'reissue',
  'assign-existing',
  'unassign',
  'synchronize',
  'set-pin',
  'remove-pin',
] as const;
export const USER_ACTIONS = ['change-password', 'change-email', 'change-phone', 'change-login', 'change-name'] as const;
export type ResourceAction = (typeof TOKEN_ACTIONS)[number] | (typeof USER_ACTIONS)[number];
export const ENROLL_TOKEN_TYPES = ['programmable', 'classic', 'software'] as const;
export type EnrollTokenType = (typeof ENROLL_TOKEN_TYPES)[number];

export interface ResourceRecord {
  id: number;
  name: string;
  url: string | null;
  /** Failed enrollment codes before a token is locked. */
  lockAfter: number;
  /** Accepted offset, in steps, for an enrollment code. */
  window: number;
  /** Search window, in steps, for synchronisation. */
  syncWindow: number;
  actions: ResourceAction[];
  tokenTypes: EnrollTokenType[];
  createdAt: string;
  updatedAt: string;
}

export interface ResourceRepo {
  create(r: {
    name: string;
    url?: string | null;
    lockAfter?: number;
    window?: number;
    syncWindow?: number;
  }): Promise<ResourceRecord>;
  update(
    id: number,
    patch: Partial<Pick<ResourceRecord, 'url' | 'lockAfter' | 'window' | 'syncWindow' | 'actions' | 'tokenTypes'>>,
  ): Promise<ResourceRecord>;
  get(id: number): Promise<ResourceRecord | null>;
  findByName(name: string): Promise<ResourceRecord | null>;
  list(): Promise<ResourceRecord[]>;
}

export interface UserRecord {
  id: number;
  login: string;
  name: string | null;
  email: string | null;
  phone: string | null;
  /** scrypt hash in PHC-like form; never printed. */
  passwordHash: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface UserRepo {
  create(u: {
    login: string;
    name?: string | null;
    email?: string | null;
    phone?: string | null;
    passwordHash?: string | null;
  }): Promise<UserRecord>;
  update(
    id: number,
    patch: Partial<Pick<UserRecord, 'login' | 'name' | 'email' | 'phone' | 'passwordHash'>>,
  ): Promise<UserRecord>;
  get(id: number): Promise<UserRecord | null>;
  findByLogin(login: string): Promise<UserRecord | null>;
  list(filter?: { resourceId?: number }): Promise<UserRecord[]>;
  /** Deletes the user with their memberships and portal state; their assignments must have ended. */
  delete(id: number): Promise<void>;
  addToResource(userId: number, resourceId: number): Promise<void>;
  removeFromResource(userId: number, resourceId: number): Promise<void>;
  isInResource(userId: number, resourceId: number): Promise<boolean>;
  resourcesOf(userId: number): Promise<ResourceRecord[]>;
}

export interface AssignmentRepo {
  create(a: { tokenId: number; userId: number; resourceId: number }): Promise<AssignmentRecord>;
  markEnrolled(id: number, at: string | null): Promise<void>;
  delete(id: number): Promise<void>;
  byToken(tokenId: number): Promise<AssignmentRecord | null>;
  byUserResource(userId: number, resourceId: number): Promise<AssignmentRecord | null>;
  list(filter?: { resourceId?: number; userId?: number }): Promise<AssignmentRecord[]>;
}

export interface AuditEntry {
  action: string;
  /** What the change is about: "token:<serial>", "resource:<name>", "batch:<id>" ... */
  subject: string;
  details?: Record<string, unknown>;
  actor?: string;
}

export interface AuditRecord {
  seq: number;
  at: string;
  actor: string;
  action: string;
  subject: string;
  details: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  rows: number;
  /** The first bad row (its seq, or the seq expected where one is missing) and what is wrong. */
  firstBad?: { seq: number; problem: string };
  /** Only when the MACed anchor could not be checked (it needs the master key): false, and why. */
  anchorChecked?: boolean;
  note?: string;
}

/** Which audit rows: all given conditions hold; times are ISO 8601 UTC (`since` included, `until` not). */
export interface AuditFilter {
  subject?: string;
  action?: string;
  actor?: string;
  since?: string;
  until?: string;
  /** Only the last `limit` rows of the selection. */
  limit?: number;
}

export interface AuditRepo {
  append(e: AuditEntry): Promise<AuditRecord>;
  list(opts?: { limit?: number; subject?: string; action?: string }): Promise<AuditRecord[]>;
  /** The rows of a filter, oldest first, read a page at a time: memory stays flat however long the log. */
  iterate(filter?: AuditFilter): AsyncIterable<AuditRecord>;
  verify(): Promise<AuditVerifyResult>;
}

/** An emailed one-time code for signing in to a Resource's self-service portal (hashed; never stored in the clear). */
export interface SignInCodeRecord {
  id: number;
  userId: number;
  resourceId: number;
  codeHash: string;
  expiresAt: string;
  usedAt: string | null;
  attempts: number;
  createdAt: string;
}

/** A counted check (sign-in, enrollment code) of one subject in one Resource, after counting one more try. */
export interface PortalAttemptCount {
  /** Tries counted since the last success (or since the last lock ran out), this one included. */
  attempts: number;
  /** Epoch ms until which the subject is locked, or null. */
  lockedUntilMs: number | null;
  /** Locks in a row since the last success: each doubles the next one's length. */
  locks: number;
}

export interface CountAttemptInput {
  /** The Resource's counter, or null for the login's counter in every Resource. */
  resourceId: number | null;
  subject: string;
  limit: number;
  lockMs: number;
  /** The longest lock (the doubling stops there); lockMs when absent (no doubling). */
  maxLockMs?: number;
  nowMs: number;
}

/**
 * The portal's shared state: sessions, counters, rate-limit buckets and emailed codes. Every
 * method is one atomic statement, so several portal processes on one database count as one.
 * Times are epoch milliseconds; the caller passes its clock.
 */
export interface PortalStateRepo {
  /** Counts one try of `subject` (e.g. "signin:alice") and locks it when the count reaches `limit` (each lock in a row twice as long); a lock that ran out starts the count again. */
  countAttempt(a: CountAttemptInput): Promise<PortalAttemptCount>;
  /** After a success: the count and the lock length back to the start, unless a lock is in force now. */
  clearAttempts(resourceId: number | null, subject: string, nowMs: number): Promise<void>;
  /** The current count, without counting (reports, tests). */
  attemptsOf(resourceId: number | null, subject: string): Promise<PortalAttemptCount | null>;
  /** One hit in a fixed-window bucket; a window older than `windowMs` starts afresh. */
  hitRateBucket(bucket: string, windowMs: number, nowMs: number): Promise<{ hits: number; windowStartMs: number }>;
  /** Stores a session by the hash of its id (the id itself is never stored). */
  createSession(s: {
    idHash: string;
    resourceId: number;
    userId: number;
    nowMs: number;
    expiresMs: number;
  }): Promise<void>;
  /** The session's user when it is alive (seen within `idleMs`, before its absolute end), marking it seen now; else null. */
  touchSession(idHash: string, resourceId: number, nowMs: number, idleMs: number): Promise<{ userId: number } | null>;
  endSession(idHash: string): Promise<void>;
  /** Ends every session of the user but `keepIdHash`; returns how many ended. */
  endUserSessions(userId: number, keepIdHash?: string): Promise<number>;
  /** Stores the user's one live emailed code unless one was sent less than `cooldownMs` ago; true when this code is the live one (send it). */
  issueEmailCode(c: {
    userId: number;
    resourceId: number;
    codeHash: string;
    nowMs: number;
    expiresMs: number;
    cooldownMs: number;
  }): Promise<boolean>;
  /** Counts one try of the live code; its hash, or null when there is none, it expired or its tries are used up. */
  tryEmailCode(
    userId: number,
    resourceId: number,
    nowMs: number,
    maxTries: number,
  ): Promise<{ codeHash: string } | null>;
  /** Uses the live code up; false when another request used it first. */
  consumeEmailCode(userId: number, resourceId: number, codeHash: string): Promise<boolean>;
  /** Records `step` as the token's last used step unless one at or after it is recorded: false then (a replay). */
  useTokenStep(tokenId: number, step: number): Promise<boolean>;
  /** Deletes ended sessions, expired codes, old buckets and counters untouched since `staleBeforeMs`. */
  prune(nowMs: number, opts: { idleMs: number; bucketMs: number; staleBeforeMs: number }): Promise<void>;
  /** The user held an enrolled token in the Resource: sign-in there keeps asking for a second factor. */
  holdSecondFactor(userId: number, resourceId: number, nowMs: number): Promise<void>;
  secondFactorHeld(userId: number, resourceId: number): Promise<boolean>;
  /** The admin lets the user sign in without a token again (in one Resource, or all); returns how many holds ended. */
  dropSecondFactor(userId: number, resourceId: number | null): Promise<number>;
  /** Ends every session of the user (in one Resource, or all); returns how many ended. */
  endUserSessionsIn(userId: number, resourceId: number | null): Promise<number>;
}

export interface PortalRepo extends PortalStateRepo {
  addSignInCode(c: {
    userId: number;
    resourceId: number;
    codeHash: string;
    expiresAt: string;
  }): Promise<SignInCodeRecord>;
  /** The newest code not yet used for this user and Resource. */
  latestSignInCode(userId: number, resourceId: number): Promise<SignInCodeRecord | null>;
  updateSignInCode(id: number, patch: { usedAt?: string | null; attempts?: number }): Promise<void>;
  signInFailures(userId: number, resourceId: number): Promise<{ failed: number; lockedUntil: string | null }>;
  setSignInFailures(userId: number, resourceId: number, failed: number, lockedUntil: string | null): Promise<void>;
}

export interface Repos {
  tokens: TokenRepo;
  batches: BatchRepo;
  resources: ResourceRepo;
  users: UserRepo;
  assignments: AssignmentRepo;
  audit: AuditRepo;
  /** Self-service portal sign-in state (codes, failure counters). */
  portal: PortalRepo;
  entra: import('./entra-types.js').EntraRepo; // Microsoft Entra ID: the connection, and what reached it per token
  /** LDAP / AD directories, their users' accounts and the Resources linked to their groups. */
  directories: DirectoryRepo;
  /** Free key/value settings of the store (schema facts, key check). */
  meta: { get(key: string): Promise<string | null>; set(key: string, value: string): Promise<void> };
}

export interface Store extends Repos {
  /** The database it opened, for messages ("/home/.../tokensmith.db"). */
  readonly location: string;
  readonly operator: string;
  /**
   * Runs `fn` in one transaction: everything it writes lands together or not
   * at all. Transactions are serialised within a process.
   *
   * `fn` MAY RUN MORE THAN ONCE: PostgreSQL runs it again from the start after
   * a serialization failure (40001) or a deadlock (40P01), with nothing of the
   * failed attempt left in the database. So `fn` must have no side effects
   * outside `tx` (no counters, lists or flags of the caller mutated, no device
   * commands, no mail): build reports and counts from its return value (or
   * from an error it throws to roll back), never from variables it sets.
   */
  transaction<T>(fn: (tx: Repos) => Promise<T>): Promise<T>;
  schemaVersion(): Promise<number>;
  close(): Promise<void>;
}
