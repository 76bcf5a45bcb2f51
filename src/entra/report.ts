/** The report of an Entra push: counts, refusals with their reasons, and Graph failures with Graph's code. */

export interface EntraFailure {
  serial: string;
  step: 'create' | 'find-user' | 'assign' | 'activate';
  code: string;
  message: string;
}

export interface PushReport {
  dryRun: boolean;
  /** Tokens considered (after --serials, --state, --resource). */
  considered: number;
  created: number;
  alreadyThere: number;
  assigned: number;
  activated: number;
  refused: { serial: string; reason: string }[];
  failed: EntraFailure[];
  /** 429/503 answers retried. */
  retries: number;
  /** Audit rows written. */
  auditRows: number;
}

export function emptyReport(dryRun: boolean): PushReport {
  return {
    dryRun,
    considered: 0,
    created: 0,
    alreadyThere: 0,
    assigned: 0,
    activated: 0,
    refused: [],
    failed: [],
    retries: 0,
    auditRows: 0,
  };
}

/** The report as text lines for the terminal. */
export function reportText(r: PushReport): string {
  const head = r.dryRun ? 'dry run (nothing sent to Entra): ' : '';
  const lines = [
    `${head}${r.considered} token(s): ${r.created} created, ${r.alreadyThere} already there, ${r.assigned} assigned, ` +
      `${r.activated} activated, ${r.refused.length} refused, ${r.failed.length} failed` +
      (r.retries ? ` (${r.retries} throttled request(s) retried)` : ''),
  ];
  for (const x of r.refused) lines.push(`  refused ${x.serial}: ${x.reason}`);
  for (const x of r.failed) lines.push(`  failed ${x.serial} (${x.step}): ${x.code}: ${x.message}`);
  return lines.join('\n');
}
