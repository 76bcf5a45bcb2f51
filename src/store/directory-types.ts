/** The store's side of LDAP / AD directories: their settings, their users' accounts and the Resources linked to their groups. */

/** An LDAP or Active Directory source of users; its settings are JSON the directory layer reads (src/directory/config.ts). */
export interface DirectoryRecord {
  id: number;
  name: string;
  config: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}

/** The directory side of a user: where it came from and whether the directory took its access away. */
export interface DirectoryAccount {
  userId: number;
  directoryId: number;
  dn: string;
  /** Disabled in the directory, or no longer found there (a leaver): no portal access. */
  disabled: boolean;
  syncedAt: string;
}

export const ON_LEAVE = ['keep', 'unassign', 'disable'] as const;
export type OnLeave = (typeof ON_LEAVE)[number];

/** A Resource whose users are the members of a directory group. */
export interface DirectoryLink {
  resourceId: number;
  directoryId: number;
  groupDn: string;
  onLeave: OnLeave;
}

export interface DirectoryRepo {
  /** Seals the bind password under the master key before it touches the database. */
  create(d: { name: string; config: Record<string, unknown>; bindPassword: string }): Promise<DirectoryRecord>;
  get(id: number): Promise<DirectoryRecord | null>;
  findByName(name: string): Promise<DirectoryRecord | null>;
  list(): Promise<DirectoryRecord[]>;
  /** Removes the directory, its links and its accounts (the users stay, as local users without a password). */
  remove(id: number): Promise<void>;
  /** Opens the sealed bind password; throws WrongMasterKeyError or SealBrokenError. */
  bindPassword(d: DirectoryRecord): Promise<string>;
  accountOf(userId: number): Promise<DirectoryAccount | null>;
  accounts(directoryId: number): Promise<DirectoryAccount[]>;
  putAccount(a: { userId: number; directoryId: number; dn: string; disabled: boolean }): Promise<void>;
  link(l: DirectoryLink): Promise<void>;
  linkOf(resourceId: number): Promise<DirectoryLink | null>;
  links(directoryId?: number): Promise<DirectoryLink[]>;
}
