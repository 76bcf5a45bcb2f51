/**
 * What the console's admin routes read from a JSON body or a query: typed
 * fields, checked for length and control characters before a service sees them.
 */
import { UsageError } from '../core/errors.js';
import { checkField } from '../provision/portal-rules.js';

type Body = Record<string, unknown> | null | undefined;

/** A text field; undefined when absent or empty unless `required`. */
export function text(body: unknown, key: string, required = false): string | undefined {
  const v = (body as Body)?.[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new UsageError(`'${key}' is missing`, 'missing-field');
    return undefined;
  }
  if (typeof v !== 'string') throw new UsageError(`'${key}' must be text`, 'bad-field');
  return checkField(key, v);
}

export function requiredText(body: unknown, key: string): string {
  return text(body, key, true)!;
}

/** A whole number field (a number, or digits as text); undefined when absent or empty. */
export function whole(body: unknown, key: string): number | undefined {
  const v = (body as Body)?.[key];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d{1,9}$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new UsageError(`'${key}' must be a whole number`, 'bad-field');
  return n;
}

/** A list of names (an array of text); empty when absent. */
export function names(body: unknown, key: string): string[] {
  const v = (body as Body)?.[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > 100 || v.some((x) => typeof x !== 'string'))
    throw new UsageError(`'${key}' must be a list of names`, 'bad-field');
  return (v as string[]).map((x) => checkField(key, x));
}

export function flag(body: unknown, key: string): boolean {
  return (body as Body)?.[key] === true;
}
