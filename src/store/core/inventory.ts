/**
 * The inventory listing (`tokens list`, the station's /api/tokens): every
 * token with its Resource and user, filtered in SQL, in one statement. The
 * SQL is the same on both dialects but for the placeholders.
 */
import type { InventoryFilter } from '../types.js';

/** `?` (SQLite) or `$n` (PostgreSQL) for the n-th parameter. */
export type Placeholder = (n: number) => string;
export const questionMarks: Placeholder = () => '?';
export const dollarNumbers: Placeholder = (n) => `$${n}`;

/** Escapes LIKE's wildcards so a search for "50%" finds that text. */
function likeContains(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The inventory statement; with `page`, only `limit` tokens after id `afterId` (its parameter is the last one). */
export function inventoryQuery(
  f: InventoryFilter,
  ph: Placeholder,
  page?: { afterId: number; limit: number },
): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const param = (v: unknown) => {
    params.push(v);
    return ph(params.length);
  };
  if (f.state) parts.push(`t.state = ${param(f.state)}`);
  if (f.states) parts.push(f.states.length ? `t.state IN (${f.states.map(param).join(', ')})` : '1 = 0');
  if (f.resource !== undefined)
    parts.push(`t.resource_id = (SELECT id FROM resources WHERE name = ${param(f.resource)})`);
  if (f.model !== undefined) parts.push(`t.model = ${param(f.model)}`);
  if (f.user !== undefined) parts.push(`u.login = ${param(f.user)}`);
  // ISO 8601 UTC text compares in time order on both dialects.
  if (f.assignedBefore !== undefined) parts.push(`a.created_at < ${param(f.assignedBefore)}`);
  const needle = f.search?.trim();
  if (needle) {
    const like = likeContains(needle);
    const cols = ['t.serial', 'u.login', 't.model', 't.manufacturer', 'r.name'];
    parts.push(`(${cols.map((c) => `lower(${c}) LIKE ${param(like)} ESCAPE '\\'`).join(' OR ')})`);
  }
  if (page) parts.push(`t.id > ${param(page.afterId)}`);
  const where = parts.length ? `WHERE ${parts.join(' AND ')}` : '';
  const sql = `SELECT t.*, r.name AS inventory_resource, u.login AS inventory_user,
      a.created_at AS inventory_assigned_at, a.enrolled_at AS inventory_enrolled_at
    FROM tokens t
    LEFT JOIN assignments a ON a.token_id = t.id
    LEFT JOIN resources r ON r.id = COALESCE(a.resource_id, t.resource_id)
    LEFT JOIN users u ON u.id = a.user_id
    ${where}
    ORDER BY t.id${page ? ` LIMIT ${page.limit}` : ''}`;
  return { sql, params };
}
