/**
 * The store's record of Microsoft Entra ID: the one connection (its credential sealed under the master key)
 * and, per token, what reached Entra. Kept apart from types.ts so that file stays small.
 */

export const ENTRA_AUTHS = ['secret', 'certificate', 'device-code'] as const;
export type EntraAuth = (typeof ENTRA_AUTHS)[number];

/** Where a token stands in Entra, as tokensmith last saw it. 'sent': a create went out and no answer came back. */
export const ENTRA_STATES = ['not-in-entra', 'sent', 'available', 'assigned', 'activated', 'failedActivation'] as const;
export type EntraState = (typeof ENTRA_STATES)[number];

export interface EntraConnection {
  tenant: string;
  clientId: string;
  auth: EntraAuth;
  graphUrl: string;
  authorityUrl: string;
  createdAt: string;
  updatedAt: string;
}

export interface EntraDeviceRecord {
  tokenId: number;
  /** The device's id in Graph; null while the token is not there. */
  entraId: string | null;
  state: EntraState;
  /** The Entra user it is assigned to (UPN or object id), when assigned. */
  userRef: string | null;
  /** Keyed digest of the seed that was uploaded (Graph never returns the secret). */
  seedDigest: string | null;
  /** The last Graph error for this token (code and message), if the last step failed. */
  error: string | null;
  updatedAt: string;
}

export type EntraDevicePatch = Pick<EntraDeviceRecord, 'tokenId' | 'state'> &
  Partial<Pick<EntraDeviceRecord, 'entraId' | 'userRef' | 'seedDigest' | 'error'>>;

export interface EntraRepo {
  connection(): Promise<EntraConnection | null>;
  /** Saves the connection (replacing any earlier one) with its credential sealed; null for none yet. */
  saveConnection(c: Omit<EntraConnection, 'createdAt' | 'updatedAt'>, credential: string | null): Promise<void>;
  /** The credential opened (client secret, certificate PEM, or the device-code token cache). */
  openCredential(): Promise<string | null>;
  /** Replaces the sealed credential (the device-code token cache after a refresh). */
  saveCredential(credential: string): Promise<void>;
  /** Keyed digest of a seed: equal seeds give equal digests, and the digest tells nothing about the seed without the master key. */
  seedDigest(seed: Uint8Array): Promise<string>;
  device(tokenId: number): Promise<EntraDeviceRecord | null>;
  devices(): Promise<EntraDeviceRecord[]>;
  /** Inserts or updates the token's record; fields left out keep their value (error is cleared unless given). */
  recordDevice(p: EntraDevicePatch): Promise<EntraDeviceRecord>;
}
