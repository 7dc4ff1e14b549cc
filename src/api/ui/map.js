// The map: assets coloured by their worst open ticket, engineers at their
// last known position (fresh or from home), depots with the stock of the
// selected ticket's parts, and that ticket's route. Drawn as SVG on a Web
// Mercator projection fitted to the fleet, so it works offline; with a
// tile URL configured (`[api] map_tiles`) tiles are laid underneath, and if
// they cannot load the drawn map stays as it is.

import { esc, t, label } from './common.js';

const W = 640, H = 420;
const SVG = 'http://www.w3.org/2000/svg';
const TILE = 256;

/** Web Mercator in [0, 1) world units. */
const project = ({ lat, lon }) => {
  const s = Math.sin((Math.max(-85, Math.min(85, lat)) * Math.PI) / 180);
  return [(lon + 180) / 360, 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)];
};

/** The view that fits every point: the scale (pixels per world unit), a
 *  zoom level, and the world point at the top left. With tiles the scale
 *  snaps down to a whole zoom level, so tiles are drawn at their size. */
function fit(points, tiles) {
  const xy = points.map(project);
  const [xs, ys] = [xy.map((p) => p[0]), xy.map((p) => p[1])];
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const worldPx = Math.min((W * 0.9) / Math.max(x1 - x0, 1e-6), (H * 0.9) / Math.max(y1 - y0, 1e-6));
  const zoom = Math.max(1, Math.min(15, Math.floor(Math.log2(worldPx / TILE))));
  const scale = tiles ? TILE * 2 ** zoom : Math.min(worldPx, TILE * 2 ** 15);
  return { zoom, scale, left: (x0 + x1) / 2 - W / 2 / scale, top: (y0 + y1) / 2 - H / 2 / scale };
}

/**
 * Draws into `host`: `assets` [{ id, location, worst }] (worst: a severity or
 * null), `engineers` [{ id, name, position, fresh }], `depots` [{ id, name,
 * location, stock: text }], `route` (optional { from, to, parts: [points] }),
 * `tiles` (URL template or ''). `onAsset(id)` is called when an asset is chosen.
 */
export function drawMap(host, { assets, engineers, depots, route, tiles, onAsset }) {
  host.innerHTML = '';
  const located = [...assets.map((a) => a.location), ...depots.map((d) => d.location), ...engineers.map((e) => e.position)].filter(Boolean);
  if (!located.length) { host.textContent = t('map.empty'); return; }
  const view = fit(located, tiles);
  const px = (p) => { const [x, y] = project(p); return [(x - view.left) * view.scale, (y - view.top) * view.scale]; };
  const out = [`<rect class="sea" width="${W}" height="${H}"/>`];
  out.push(`<g class="tiles">${tiles ? tileImages(view, tiles) : ''}</g>`);
  // A graticule every few degrees: the drawn map's only geography.
  for (let lon = -180; lon <= 180; lon += 2) { const [x] = px({ lat: 0, lon }); if (x >= 0 && x <= W) out.push(`<line class="graticule" x1="${x}" x2="${x}" y1="0" y2="${H}"/>`); }
  for (let lat = -84; lat <= 84; lat += 2) { const [, y] = px({ lat, lon: 0 }); if (y >= 0 && y <= H) out.push(`<line class="graticule" x1="0" x2="${W}" y1="${y}" y2="${y}"/>`); }
  if (route?.from && route?.to) {
    const [[x1, y1], [x2, y2]] = [px(route.from), px(route.to)];
    out.push(`<line class="route" data-kind="route" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`);
  }
  for (const p of route?.parts ?? []) {
    const [[x1, y1], [x2, y2]] = [px(p), px(route.to)];
    out.push(`<line class="parts-route" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`);
  }
  for (const d of depots) {
    const [x, y] = px(d.location);
    out.push(`<rect class="depot" data-kind="depot" data-id="${esc(d.id)}" x="${x - 5}" y="${y - 5}" width="10" height="10"><title>${esc(`${d.name} (${d.id})${d.stock ? `: ${d.stock}` : ''}`)}</title></rect>`);
  }
  for (const a of assets) {
    const [x, y] = px(a.location);
    const r = a.worst ? 6 : 3.5;
    out.push(`<circle class="asset sev-${esc(a.worst ?? 'none')}${a.selected ? ' selected' : ''}" data-kind="asset" data-id="${esc(a.id)}" tabindex="${a.worst ? 0 : -1}" cx="${x}" cy="${y}" r="${r}"><title>${esc(`${a.id}${a.worst ? ` · ${label('severity', a.worst)}` : ''}`)}</title></circle>`);
  }
  for (const e of engineers) {
    if (!e.position) continue;
    const [x, y] = px(e.position);
    out.push(`<path class="engineer ${e.fresh ? 'fresh' : 'stale'}" data-kind="engineer" data-id="${esc(e.id)}" d="M${x} ${y - 7}L${x + 6} ${y + 5}L${x - 6} ${y + 5}Z"><title>${esc(`${e.name} (${e.id}) · ${e.fresh ? t('map.fresh') : t('map.stale')}`)}</title></path>`);
  }
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'map');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', t('map.aria', { assets: assets.length, engineers: engineers.length, depots: depots.length }));
  svg.innerHTML = out.join('');
  // A tile that cannot load takes every tile away: the drawn map stays.
  svg.querySelectorAll('.tiles image').forEach((img) => img.addEventListener('error', () => svg.querySelector('.tiles').replaceChildren(), { once: true }));
  const choose = (e) => { const id = e.target.closest?.('[data-kind="asset"]')?.dataset.id; if (id) onAsset?.(id); };
  svg.addEventListener('click', choose);
  svg.addEventListener('keydown', (e) => { if (e.key === 'Enter') choose(e); });
  host.append(svg);
}

function tileImages(view, template) {
  const n = 2 ** view.zoom, out = [];
  const [tx0, ty0] = [Math.floor(view.left * n), Math.floor(view.top * n)];
  const [tx1, ty1] = [Math.floor((view.left + W / view.scale) * n), Math.floor((view.top + H / view.scale) * n)];
  for (let x = tx0; x <= tx1; x++) {
    for (let y = Math.max(ty0, 0); y <= Math.min(ty1, n - 1); y++) {
      const url = template.replace('{z}', view.zoom).replace('{x}', ((x % n) + n) % n).replace('{y}', y);
      out.push(`<image href="${esc(url)}" x="${(x / n - view.left) * view.scale}" y="${(y / n - view.top) * view.scale}" width="${TILE}" height="${TILE}"/>`);
    }
  }
  return out.join('');
}
