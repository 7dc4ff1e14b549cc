// The readings that raised a ticket, drawn as SVG: the samples the evidence
// carries, the rule's limit, the forecast line to its crossing and the
// moment of detection. Hand-drawn rather than a charting library: four
// series and two markers need about a hundred lines, and the page stays
// free of third-party code (see the README, "The console").

import { esc, when, num, t } from './common.js';

const W = 640, H = 220, PAD = { l: 52, r: 16, t: 14, b: 30 };
const SVG = 'http://www.w3.org/2000/svg';

/** Evenly spaced round ticks covering [lo, hi]. */
function ticks(lo, hi, count) {
  const raw = (hi - lo) / Math.max(count, 1);
  const mag = 10 ** Math.floor(Math.log10(raw || 1));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

/**
 * Draws into `host` (replacing its content) a chart of `samples` ([[ms, value]]),
 * with `limit` (a horizontal line), `forecast` ({ at, value }: where the trend
 * crosses the limit) and `detected` (ms). `title` names the metric and unit.
 */
export function drawChart(host, { title, unit, samples, limit, forecast, detected }) {
  host.innerHTML = '';
  if (!samples.length) { host.textContent = t('chart.no_samples'); return; }
  const xs = samples.map((s) => s[0]).concat(detected ?? [], forecast?.at ?? []);
  const ys = samples.map((s) => s[1]).concat(limit ?? [], forecast?.value ?? []);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x1 === x0) x1 = x0 + 60000;
  const margin = (y1 - y0) * 0.08 || Math.abs(y0) * 0.1 || 1;
  y0 -= margin; y1 += margin;
  const X = (v) => PAD.l + ((v - x0) / (x1 - x0)) * (W - PAD.l - PAD.r);
  const Y = (v) => H - PAD.b - ((v - y0) / (y1 - y0)) * (H - PAD.t - PAD.b);

  const parts = [];
  for (const v of ticks(y0, y1, 4)) {
    parts.push(`<line class="grid" x1="${PAD.l}" x2="${W - PAD.r}" y1="${Y(v)}" y2="${Y(v)}"/>`,
      `<text class="axis" x="${PAD.l - 6}" y="${Y(v) + 4}" text-anchor="end">${esc(num(v, 2))}</text>`);
  }
  const hour = 3600000;
  for (const v of ticks(x0 / hour, x1 / hour, 5).map((h) => h * hour)) {
    parts.push(`<text class="axis" x="${X(v)}" y="${H - 8}" text-anchor="middle">${esc(when(v, (x1 - x0) < 20 * hour))}</text>`);
  }
  if (limit != null) {
    parts.push(`<line class="limit" data-value="${limit}" x1="${PAD.l}" x2="${W - PAD.r}" y1="${Y(limit)}" y2="${Y(limit)}"/>`,
      `<text class="limit-label" x="${W - PAD.r - 4}" y="${Y(limit) - 4}" text-anchor="end">${esc(t('chart.limit', { value: num(limit, 2), unit }))}</text>`);
  }
  const line = samples.map(([x, y]) => `${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
  parts.push(`<polyline class="readings" data-count="${samples.length}" points="${line}"/>`);
  if (forecast) {
    const [lx, ly] = samples[samples.length - 1];
    parts.push(`<line class="forecast" x1="${X(lx)}" y1="${Y(ly)}" x2="${X(forecast.at)}" y2="${Y(forecast.value)}"/>`,
      `<circle class="crossing" data-at="${forecast.at}" cx="${X(forecast.at)}" cy="${Y(forecast.value)}" r="4"><title>${esc(t('chart.crossing', { at: when(forecast.at) }))}</title></circle>`);
  }
  if (detected != null) {
    parts.push(`<line class="detected" data-at="${detected}" x1="${X(detected)}" x2="${X(detected)}" y1="${PAD.t}" y2="${H - PAD.b}"/>`,
      `<text class="detected-label" x="${X(detected) + 4}" y="${PAD.t + 10}">${esc(t('chart.detected'))}</text>`);
  }
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('role', 'img');
  svg.setAttribute('class', 'chart');
  svg.setAttribute('aria-label', t('chart.aria', { metric: title, count: samples.length }));
  svg.innerHTML = `<title>${esc(title)}</title>${parts.join('')}`;
  host.append(svg);
}
