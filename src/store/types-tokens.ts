/**
 * The token records and the token repository of the store's interface
 * (types.ts re-exports them): what a token row holds, how it is inserted,
 * patched, filtered and listed.
 */
import type { Algorithm, TokenKind, TokenType } from '../core/spec.js';
import type { TokenState } from '../core/states.js';

export interface TokenRecord {
  id: number;
  serial: string;
  manufacturer: string;
  model: string | null;
  kind: TokenKind;
  type: TokenType;
  algorithm: Algorithm;
  digits: number;
  period: number;
  counter: number;
  state: TokenState;
  /** The state before disabled/lost, so that `enable` can return to it. */
  previousState: TokenState | null;
  driftSteps: number;
  hasSeed: boolean;
  batchId: number | null;
  /** The Resource whose stock the token is in (or is assigned in). */
  resourceId: number | null;
  /** For multi-profile devices: the device's serial and the profile slot. */
  deviceSerial: string | null;
  profile: number | null;
  /** Failed enrollment codes since the last success or unlock. */
  failedAttempts: number;
  /** Locked for enrollment after too many failures, until an admin unlocks it. */
  locked: boolean;
  /** The last step (TOTP) or counter (HOTP) accepted: codes at or before it are refused. */
  lastUsedStep: number | null;
  /** Free-form attributes from import files (issue date, policy, user id ...). */
  attributes: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  /** When the state last changed (the insert, for a token that never moved). */
  stateChangedAt: string;
  /** RFC 6238 T0 in Unix seconds (TOTP): present only when not 0. */
  t0?: number;
  /** RFC 4226 Luhn check digit appended to each code: present only when true. */
  checkDigit?: boolean;
  /** The exact HOTP counter in decimal when it is beyond 2^53-1 (then `counter` is 2^53-1): present only then. */
  counterExact?: string;
}

export interface NewToken {
  serial: string;
  manufacturer?: string;
  model?: string | null;
  kind: TokenKind;
  type: TokenType;
  algorithm: Algorithm;
  digits: number;
  period: number;
  counter: number;
  state: TokenState;
  driftSteps?: number;
  /** Plain seed: sealed by the repository before it touches the database. */
  seed?: Uint8Array | null;
  batchId?: number | null;
  resourceId?: number | null;
  deviceSerial?: string | null;
  profile?: number | null;
  attributes?: Record<string, unknown>;
  /** RFC 6238 T0 in Unix seconds; 0 when absent. */
  t0?: number;
  /** Codes end in a Luhn check digit (RFC 4226 section 5.4 / RFC 6030 CheckDigits). */
  checkDigit?: boolean;
  /** The exact counter in decimal, up to 2^64-1; wins over `counter` when given. */
  counterExact?: string;
}

export type TokenPatch = Partial<
  Pick<
    TokenRecord,
    | 'manufacturer'
    | 'model'
    | 'kind'
    | 'type'
    | 'algorithm'
    | 'digits'
    | 'period'
    | 'counter'
    | 'state'
    | 'previousState'
    | 'driftSteps'
    | 'batchId'
    | 'resourceId'
    | 'deviceSerial'
    | 'profile'
    | 'failedAttempts'
    | 'locked'
    | 'lastUsedStep'
    | 'attributes'
    | 't0'
    | 'checkDigit'
  >
> & {
  seed?: Uint8Array | null;
  /** With `counter`: the exact decimal counter (up to 2^64-1); a counter patch without it clears it. */ counterExact?:
    string | null;
};

export interface TokenFilter {
  state?: TokenState;
  states?: readonly TokenState[]; // any of these (`--state a,b`)
  resourceId?: number;
  serials?: string[];
  batchId?: number;
  deviceSerial?: string;
}

/** The inventory's filters, all applied in SQL (InventoryRow lists the Resource and user of each token). */
export interface InventoryFilter {
  state?: TokenState;
  states?: readonly TokenState[]; // any of these (`--state a,b`)
  /** The Resource's name: tokens in its stock or assigned in it. */
  resource?: string;
  model?: string;
  /** The login of the user the token is assigned to. */
  user?: string;
  /** Case-insensitive text in the serial, user, model, manufacturer or Resource name. */
  search?: string;
  /** Only tokens assigned (to a user, still) before this ISO 8601 UTC time. */
  assignedBefore?: string;
}

export interface InventoryRow {
  token: TokenRecord;
  resource: string | null;
  user: string | null;
  /** When the token was assigned to `user`, and when the user enrolled it (null: not (yet)). */
  assignedAt: string | null;
  enrolledAt: string | null;
}

export interface TokenRepo {
  /** The inventory in one statement: each token with its Resource's name and its user's login, filtered in SQL. */
  inventory(filter?: InventoryFilter): Promise<InventoryRow[]>;
  /** The inventory page by page (1000 tokens a query): memory stays flat however large the store. */
  iterateInventory(filter?: InventoryFilter): AsyncIterable<InventoryRow>;
  insert(t: NewToken): Promise<TokenRecord>;
  /**
   * Inserts many tokens at once (seed files of 100,000 tokens) without reading
   * rows back. A token whose (manufacturer, serial) is already in the store is
   * left out; its index in `tokens` is returned in `existing`.
   */
  insertMany(tokens: NewToken[]): Promise<{ inserted: number; existing: number[] }>;
  update(id: number, patch: TokenPatch): Promise<TokenRecord>;
  get(id: number): Promise<TokenRecord | null>;
  /** All tokens with this serial (one per manufacturer). */
  findBySerial(serial: string): Promise<TokenRecord[]>;
  findOne(manufacturer: string, serial: string): Promise<TokenRecord | null>;
  /** The (first) token whose attributes hold this reader UID (a family that knows its tokens by UID): an indexed lookup. */
  findByUid(uid: string): Promise<TokenRecord | null>;
  list(filter?: TokenFilter): Promise<TokenRecord[]>;
  /** Iterates without loading every row at once (exports of 100,000 tokens). */
  iterate(filter?: TokenFilter): AsyncIterable<TokenRecord>;
  count(filter?: TokenFilter): Promise<number>;
  /** Opens the sealed seed; throws WrongMasterKeyError or SealBrokenError. */
  openSeed(t: TokenRecord): Promise<Buffer>;
  /**
   * Iterates tokens with their opened seed (null when none) and their
   * assignment, one query per page of 1000: the export path for 100,000 tokens.
   */
  iterateWithSeeds(filter?: TokenFilter): AsyncIterable<TokenWithSeed>;
  delete(id: number): Promise<void>;
}

export interface TokenWithSeed {
  token: TokenRecord;
  seed: Buffer | null;
  assignment: AssignmentRecord | null;
}

/** A token given to a user within a Resource. */
export interface AssignmentRecord {
  id: number;
  tokenId: number;
  userId: number;
  resourceId: number;
  createdAt: string;
  enrolledAt: string | null;
}
