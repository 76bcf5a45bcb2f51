/**
 * What the portal answers at `/`: a plain page that says where the pages are,
 * or, when the admin allows it (`tokensmith portal --list-resources`), a list
 * of the Resources that allow self-service, each linking to /r/<resource>.
 * Static HTML, no script: the CSP allows none inline.
 */
import type { Store } from '../store/types.js';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Token self-service</title>
<link rel="stylesheet" href="/assets/app.css">
</head>
<body>
<main id="main"><h1>Token self-service</h1>
${body}
</main>
</body>
</html>
`;
}

/** The index page; `list`: name the Resources that allow any self-service action. */
export async function portalIndexPage(store: Store, list: boolean): Promise<string> {
  if (!list)
    return page(
      '<p id="index-note">Open the link to your portal that you were given (it ends in /r/ and a name), or the one in your sign-in mail.</p>',
    );
  const open = (await store.resources.list()).filter((r) => r.actions.length > 0);
  if (open.length === 0) return page('<p id="index-note">No portal is open here yet.</p>');
  const items = open
    .map((r) => `<li><a href="/r/${encodeURIComponent(r.name)}">${escapeHtml(r.name)}</a></li>`)
    .join('\n');
  return page(`<p id="index-note">Choose your portal:</p>\n<ul id="resources">\n${items}\n</ul>`);
}
