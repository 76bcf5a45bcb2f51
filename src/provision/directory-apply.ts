/**
 * Writes one Resource's sync plan in the caller's transaction: new users and
 * their accounts, updated fields, disabled accounts and leavers (portal
 * access and sessions ended at once; their tokens as the Resource's on-leave
 * rule says), with an audit row for each change and one for the sync.
 */
import { nextState } from '../core/states.js';
import type { OnLeave, Repos, UserRecord } from '../store/types.js';
import { unassignWithin } from './assign.js';
import type { ResourcePlan } from './directory-plan.js';

export interface ResourceReport {
  resource: string;
  group: string;
  onLeave: OnLeave;
  added: string[];
  updated: string[];
  disabled: string[];
  left: string[];
  unchanged: number;
  conflicts: string[];
  invalid: string[];
  /** What happened to the leavers' tokens: serials per outcome. */
  tokens: { kept: string[]; unassigned: string[]; disabled: string[] };
  sessionsEnded: number;
}

export function reportOf(plan: ResourcePlan): ResourceReport {
  return {
    resource: plan.resource.name,
    group: plan.link.groupDn,
    onLeave: plan.link.onLeave,
    added: plan.add.map((p) => p.login),
    updated: plan.update.map((u) => u.person.login),
    disabled: plan.disable.map((d) => d.person.login),
    left: plan.leave.map((u) => u.login),
    unchanged: plan.unchanged,
    conflicts: plan.conflicts,
    invalid: plan.invalid,
    tokens: { kept: [], unassigned: [], disabled: [] },
    sessionsEnded: 0,
  };
}

const actor = (directory: string) => `directory:${directory}`;

async function addUsers(tx: Repos, plan: ResourcePlan, directory: string): Promise<void> {
  for (const p of plan.add) {
    const user =
      (await tx.users.findByLogin(p.login)) ??
      (await tx.users.create({ login: p.login, name: p.name, email: p.email, phone: p.phone }));
    await tx.directories.putAccount({ userId: user.id, directoryId: plan.link.directoryId, dn: p.dn, disabled: false });
    await tx.users.addToResource(user.id, plan.resource.id);
    await tx.audit.append({
      action: 'directory.user-added',
      subject: `user:${p.login}`,
      actor: actor(directory),
      details: { resource: plan.resource.name, dn: p.dn },
    });
  }
}

async function updateUsers(tx: Repos, plan: ResourcePlan, directory: string): Promise<void> {
  for (const { user, person: p, changed } of plan.update) {
    await tx.users.update(user.id, { name: p.name, email: p.email, phone: p.phone });
    await tx.directories.putAccount({ userId: user.id, directoryId: plan.link.directoryId, dn: p.dn, disabled: false });
    await tx.audit.append({
      action: 'directory.user-updated',
      subject: `user:${p.login}`,
      actor: actor(directory),
      details: { resource: plan.resource.name, changed },
    });
  }
}

/** A leaver's token in this Resource, treated as the on-leave rule says; the serial and what happened. */
async function leaverToken(tx: Repos, plan: ResourcePlan, user: UserRecord, report: ResourceReport): Promise<void> {
  const a = await tx.assignments.byUserResource(user.id, plan.resource.id);
  const token = a ? await tx.tokens.get(a.tokenId) : null;
  if (!token) return;
  const via = `directory sync (${plan.link.onLeave})`;
  if (plan.link.onLeave === 'unassign') {
    await unassignWithin(tx, token, { via });
    report.tokens.unassigned.push(token.serial);
  } else if (plan.link.onLeave === 'disable' && token.state !== 'disabled') {
    const to = nextState(token.state, 'disable', { kind: token.kind, hasSeed: token.hasSeed });
    await tx.tokens.update(token.id, { state: to, previousState: token.state });
    await tx.audit.append({
      action: 'token.disable',
      subject: `token:${token.serial}`,
      details: { from: token.state, to, user: user.login, resource: plan.resource.name, via },
    });
    report.tokens.disabled.push(token.serial);
  } else report.tokens.kept.push(token.serial);
}

async function removeUsers(tx: Repos, plan: ResourcePlan, directory: string, report: ResourceReport): Promise<void> {
  for (const { user, person: p } of plan.disable) {
    await tx.directories.putAccount({ userId: user.id, directoryId: plan.link.directoryId, dn: p.dn, disabled: true });
    report.sessionsEnded += await tx.portal.endUserSessions(user.id);
    await tx.audit.append({
      action: 'directory.user-disabled',
      subject: `user:${user.login}`,
      actor: actor(directory),
      details: { resource: plan.resource.name },
    });
  }
  for (const user of plan.leave) {
    await leaverToken(tx, plan, user, report);
    await tx.users.removeFromResource(user.id, plan.resource.id);
    report.sessionsEnded += await tx.portal.endUserSessions(user.id);
    await tx.audit.append({
      action: 'directory.user-left',
      subject: `user:${user.login}`,
      actor: actor(directory),
      details: { resource: plan.resource.name, onLeave: plan.link.onLeave },
    });
  }
}

/** Applies the plan in `tx`; the report of what was done. */
export async function applyPlan(tx: Repos, plan: ResourcePlan, directory: string): Promise<ResourceReport> {
  const report = reportOf(plan);
  await addUsers(tx, plan, directory);
  await updateUsers(tx, plan, directory);
  await removeUsers(tx, plan, directory, report);
  await tx.audit.append({
    action: 'directory.sync',
    subject: `resource:${plan.resource.name}`,
    actor: actor(directory),
    details: {
      directory,
      group: plan.link.groupDn,
      added: report.added.length,
      updated: report.updated.length,
      disabled: report.disabled.length,
      left: report.left.length,
      unchanged: report.unchanged,
      conflicts: report.conflicts,
      tokens: report.tokens,
    },
  });
  return report;
}
