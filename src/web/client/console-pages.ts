/** The console's pages by section of the address (#/<section>/<arg>): the station itself first. */
import type { ConsolePages, PageRender } from './admin-nav.js';
import { renderAudit } from './admin-audit.js';
import { renderReports } from './admin-reports.js';
import { renderResource, renderResources } from './admin-resources.js';
import { renderToken, renderTokens } from './admin-tokens.js';
import { renderUser, renderUsers } from './admin-users.js';

/** A list page, or with an argument (#/tokens/123) the page of one. */
const listOrOne =
  (list: PageRender, one: PageRender): PageRender =>
  (view, args) =>
    args.length ? one(view, args) : list(view, args);

export function consolePages(station: PageRender): ConsolePages {
  return {
    '': { title: 'Station', render: station },
    resources: { title: 'Resources', render: listOrOne(renderResources, renderResource) },
    users: { title: 'Users', render: listOrOne(renderUsers, renderUser) },
    tokens: { title: 'Tokens', render: listOrOne(renderTokens, renderToken) },
    audit: { title: 'Audit', render: renderAudit },
    reports: { title: 'Reports', render: renderReports },
  };
}
