/**
 * The console's reports: tokens by state, model and Resource; tokens
 * assigned but never enrolled, with their age; and clock drift per token and
 * per model (from what sync, verify, enroll and resync observed) as an SVG
 * chart and tables. Each downloads as CSV.
 */
import { h } from './dom.js';
import { csvButton, heading, pageLink, pageStatus, sayError, section, table, when } from './admin-common.js';
import { api } from './station-session.js';

interface CountRow {
  key: string;
  count: number;
}
interface DriftRow {
  serial: string;
  model: string;
  driftSeconds: number;
  seenBy: string;
  at: string;
  observations: number;
  correctedTo: number | null;
}
interface ModelDrift {
  model: string;
  tokens: number;
  meanSeconds: number;
  minSeconds: number;
  maxSeconds: number;
}
interface Reports {
  byState: CountRow[];
  byModel: CountRow[];
  byResource: CountRow[];
  notEnrolled: { serial: string; user: string; resource: string; assignedAt: string; ageDays: number }[];
  drift: { tokens: DriftRow[]; models: ModelDrift[] };
}

const SVG = 'http://www.w3.org/2000/svg';
const signed = (n: number) => `${n > 0 ? '+' : n < 0 ? '−' : ''}${Math.abs(n)} s`;

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number>,
  ...children: (Node | string)[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

/** One horizontal bar per token, left of the zero line when its clock is behind, right when ahead. */
export function driftChart(rows: DriftRow[]): SVGSVGElement {
  const width = 720;
  const rowH = 26;
  const label = 200;
  const height = Math.max(1, rows.length) * rowH + 40;
  const max = Math.max(1, ...rows.map((r) => Math.abs(r.driftSeconds)));
  const half = (width - label - 70) / 2;
  const zero = label + half;
  const chart = svg(
    'svg',
    {
      id: 'drift-chart',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-labelledby': 'drift-chart-title drift-chart-desc',
    },
    svg('title', { id: 'drift-chart-title' }, 'Clock drift per token'),
    svg(
      'desc',
      { id: 'drift-chart-desc' },
      rows.length
        ? `Seconds each token's clock was off, ${rows.map((r) => `${r.serial} ${signed(r.driftSeconds)}`).join(', ')}.`
        : 'No drift observed yet.',
    ),
    svg('line', { x1: zero, x2: zero, y1: 10, y2: height - 20, stroke: '#444', 'stroke-width': 1 }),
    svg('text', { x: zero, y: height - 4, 'text-anchor': 'middle', 'font-size': 12, fill: '#333' }, '0 s'),
  );
  rows.forEach((r, i) => {
    const y = 14 + i * rowH;
    const w = (Math.abs(r.driftSeconds) / max) * half;
    const x = r.driftSeconds < 0 ? zero - w : zero;
    chart.append(
      svg(
        'text',
        { x: label - 8, y: y + 14, 'text-anchor': 'end', 'font-size': 12, fill: '#1b1b1b' },
        `${r.serial} (${r.model})`,
      ),
      svg(
        'rect',
        {
          x,
          y,
          width: Math.max(1, w),
          height: rowH - 8,
          fill: r.driftSeconds < 0 ? '#8a3b00' : '#1f4e79',
          'data-serial': r.serial,
          'data-seconds': r.driftSeconds,
        },
        svg('title', {}, `${r.serial}: ${signed(r.driftSeconds)}`),
      ),
      svg(
        'text',
        {
          x: r.driftSeconds < 0 ? x - 4 : x + w + 4,
          y: y + 14,
          'text-anchor': r.driftSeconds < 0 ? 'end' : 'start',
          'font-size': 12,
          fill: '#1b1b1b',
          class: 'drift-value',
        },
        signed(r.driftSeconds),
      ),
    );
  });
  return chart;
}

function countSection(id: string, title: string, what: string, rows: CountRow[], status: HTMLElement): HTMLElement {
  return section(
    id,
    title,
    table(
      `${id}-table`,
      title,
      [what, 'Tokens'],
      rows.map((r) => [r.key, r.count]),
      'No tokens.',
    ),
    h(
      'div',
      { class: 'actions' },
      csvButton(`${id}-csv`, `Download “${title}” as CSV`, () => `/api/admin/reports/${id}.csv`, `${id}.csv`, status),
    ),
  );
}

/** A CSV download of one report. */
function reportCsv(id: string, label: string, status: HTMLElement): HTMLButtonElement {
  return csvButton(`${id}-csv`, label, () => `/api/admin/reports/${id}.csv`, `${id}.csv`, status);
}

function notEnrolledSection(r: Reports, status: HTMLElement): HTMLElement {
  return section(
    'not-enrolled',
    'Assigned but never enrolled',
    table(
      'not-enrolled-table',
      'Tokens assigned to a user who has not typed a code from them yet, oldest first',
      ['Serial', 'User', 'Resource', 'Assigned', 'Age (days)'],
      r.notEnrolled.map((n) => [
        pageLink(['tokens', n.serial], n.serial),
        n.user,
        n.resource,
        when(n.assignedAt),
        n.ageDays,
      ]),
      'None: every assigned token was enrolled.',
    ),
    h('div', { class: 'actions' }, reportCsv('not-enrolled', 'Download “Assigned but never enrolled” as CSV', status)),
  );
}

function driftSection(r: Reports, status: HTMLElement): HTMLElement {
  const perToken = r.drift.tokens.map((d) => [
    pageLink(['tokens', d.serial], d.serial),
    d.model,
    signed(d.driftSeconds),
    d.seenBy,
    when(d.at),
    d.observations,
    d.correctedTo === null ? '—' : signed(d.correctedTo),
  ]);
  const perModel = r.drift.models.map((m) => [
    m.model,
    m.tokens,
    signed(m.meanSeconds),
    signed(m.minSeconds),
    signed(m.maxSeconds),
  ]);
  return section(
    'drift',
    'Clock drift',
    h(
      'p',
      {},
      "Each token's clock minus this computer's, in seconds, as last observed by a sync, a verify, an enrollment or a resync. A sync then sets the clock right: the last column says to what.",
    ),
    h('figure', { class: 'chart' }, driftChart(r.drift.tokens)),
    table(
      'drift-tokens',
      'Drift per token',
      ['Serial', 'Model', 'Drift', 'Seen by', 'When', 'Observations', 'Clock after'],
      perToken,
      'No drift observed yet: sync or verify a token.',
    ),
    table(
      'drift-models',
      'Drift per model',
      ['Model', 'Tokens', 'Mean', 'Least', 'Most'],
      perModel,
      'No drift observed yet.',
    ),
    h(
      'div',
      { class: 'actions' },
      reportCsv('drift-tokens', 'Download drift per token as CSV', status),
      reportCsv('drift-models', 'Download drift per model as CSV', status),
    ),
  );
}

export async function renderReports(view: HTMLElement): Promise<void> {
  const status = pageStatus('reports-status');
  view.replaceChildren(heading('Reports'), status, h('p', {}, 'Loading…'));
  let r: Reports;
  try {
    r = await api<Reports>('/api/admin/reports');
  } catch (e) {
    sayError(status, e);
    return;
  }
  view.replaceChildren(
    heading('Reports'),
    status,
    countSection('tokens-by-state', 'Tokens by state', 'State', r.byState, status),
    countSection('tokens-by-model', 'Tokens by model', 'Model', r.byModel, status),
    countSection('tokens-by-resource', 'Tokens by Resource', 'Resource', r.byResource, status),
    notEnrolledSection(r, status),
    driftSection(r, status),
  );
}
