/**
 * The store as one station operator sees it: every audit row and batch it
 * writes names that operator (`station:<name>`), not the OS user who started
 * `serve`. A view over the shared store, so the services stay unchanged.
 */
import type { AuditRepo, Repos, Store } from '../store/types.js';

export function stationActor(operator: string): string {
  return `station:${operator}`;
}

function auditAs(audit: AuditRepo, actor: string): AuditRepo {
  return {
    append: (e) => audit.append({ ...e, actor: e.actor ?? actor }),
    list: (opts) => audit.list(opts),
    iterate: (filter) => audit.iterate(filter),
    verify: () => audit.verify(),
  };
}

/** Methods read through the view stay bound to the real object, whose private fields they use. */
function view<T extends object>(target: T, overrides: Partial<Record<keyof T | 'operator', unknown>>): T {
  return new Proxy(target, {
    get(t, key, _receiver) {
      if (Object.prototype.hasOwnProperty.call(overrides, key)) return (overrides as Record<PropertyKey, unknown>)[key];
      const v = Reflect.get(t, key, t) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

function reposAs(repos: Repos, actor: string): Repos {
  return view(repos, { audit: auditAs(repos.audit, actor) });
}

/** `store` acting for `operator`: audit rows (inside transactions too) and the `operator` of new batches name them. */
export function storeForOperator(store: Store, operator: string): Store {
  const actor = stationActor(operator);
  return view(store, {
    operator: actor,
    audit: auditAs(store.audit, actor),
    transaction: <T>(fn: (tx: Repos) => Promise<T>) => store.transaction((tx) => fn(reposAs(tx, actor))),
  });
}
