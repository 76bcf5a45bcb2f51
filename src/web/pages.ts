/**
 * The HTML shells; the bundled client (dist/web/*.js) builds the rest. No
 * inline script or style, so the Content-Security-Policy can forbid both.
 */
function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shell(title: string, script: string, data: Record<string, string> = {}): string {
  const attrs = Object.entries(data)
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/assets/app.css">
<script type="module" src="/assets/${script}"></script>
</head>
<body>
<a class="skip" href="#main">Skip to the content</a>
<main id="main" tabindex="-1"${attrs}><p>Loading…</p><noscript>This page needs JavaScript.</noscript></main>
</body>
</html>
`;
}

export function stationPage(): string {
  return shell('tokensmith station', 'station.js');
}

export function selfServicePage(resource: string): string {
  return shell(`${resource}: token self-service`, 'selfservice.js', { resource });
}

export function notPairedPage(reason: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Not paired</title></head><body><main><h1>Not paired</h1><p>${escapeHtml(reason)}</p></main></body></html>\n`;
}

/** Content-Security-Policy for every answer: this origin only, no inline code, no framing. */
export function contentSecurityPolicy(origin: string): string {
  const ws = origin.replace(/^http/, 'ws');
  return `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ${ws}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`;
}
