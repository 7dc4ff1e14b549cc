// The dispatcher console: the board ordered by what to do next, the ticket
// with the readings that raised it, the engineers' day and the map, all
// through the JSON API and refreshed by its change stream.

import {
  $, esc, t, label, when, num, api, openFile, session, notify, confirmDialog, formDialog, watchChanges,
  loadCatalogue, languageSwitch, nextDeadline, urgency, countdown, describe, unit, metricName, boardOrder, SEVERITY_RANK, lang,
} from './common.js';
import { drawChart } from './chart.js';
import { drawMap } from './map.js';
import {
  checkWords, flat, historyList, reportForm, reportBody, partsTable, visitLine, visitForm, visitBody, noteForm, wireArrivals,
} from './words.js';

const STEPS = { open: ['cancelled'], assigned: ['accepted', 'cancelled'], accepted: ['en_route', 'cancelled'],
  en_route: ['on_site', 'cancelled'], on_site: ['resolved'], resolved: ['closed'] };
const HOUR = 3600000;

const state = { me: null, tickets: [], engineers: new Map(), assets: new Map(), depots: [], selected: null, detail: null, chosen: new Set(), settings: {} };

// Filters live in the URL, so a view can be shared, bookmarked and reloaded.
function readFilters() {
  const q = new URLSearchParams(location.search);
  $('f-state').value = q.get('state') || 'active';
  $('f-severity').value = q.get('severity') || '';
  $('f-text').value = q.get('q') || '';
  state.selected = q.get('ticket');
}
function writeFilters() {
  const q = new URLSearchParams();
  if ($('f-state').value !== 'active') q.set('state', $('f-state').value);
  if ($('f-severity').value) q.set('severity', $('f-severity').value);
  if ($('f-text').value) q.set('q', $('f-text').value);
  if (state.selected) q.set('ticket', state.selected);
  history.replaceState(null, '', `${location.pathname}${q.size ? `?${q}` : ''}`);
}

async function loadBoard() {
  const q = new URLSearchParams({ limit: '1000' });
  const s = $('f-state').value;
  if (s === 'active') q.set('active', 'true'); else q.set('state', s);
  if ($('f-severity').value) q.set('severity', $('f-severity').value);
  state.tickets = (await api(`/api/v1/tickets?${q}`)).items;
}

function engineerName(id) {
  return id ? (state.engineers.get(id)?.engineer.name ?? id) : '';
}

function visibleTickets() {
  const text = $('f-text').value.trim().toLowerCase();
  const now = Date.now();
  return state.tickets
    .filter((x) => !text || [x.id, x.asset_id, x.fault_code, x.model, engineerName(x.engineer_id), describe(x)]
      .some((v) => String(v ?? '').toLowerCase().includes(text)))
    .sort((a, b) => (['closed', 'cancelled'].includes(a.state) ? b.detected_at - a.detected_at : boardOrder(a, b, now)));
}

/** Re-draws the board, keeping the focus where it was (a row or its box):
 *  live updates must not throw a keyboard user back to the page's start. */
function renderBoard() {
  const focused = document.activeElement;
  const focusedId = focused?.closest?.('tr.row')?.dataset.id;
  const onPick = focused?.classList?.contains('pick');
  const rows = visibleTickets();
  const shown = new Set(rows.map((x) => x.id));
  state.chosen = new Set([...state.chosen].filter((i) => shown.has(i)));
  $('ack').disabled = !state.chosen.size;
  $('board-count').textContent = t('board.count', { n: rows.length });
  $('rows').innerHTML = rows.map((x) => `<tr class="row${x.id === state.selected ? ' selected' : ''}" data-id="${esc(x.id)}" tabindex="0" aria-selected="${x.id === state.selected}">
      <td><input type="checkbox" class="pick" data-id="${esc(x.id)}" ${state.chosen.has(x.id) ? 'checked' : ''} aria-label="${esc(t('board.select', { id: x.id }))}"></td>
      <td class="due" data-id="${esc(x.id)}"></td>
      <td><span class="sev sev-${esc(x.severity)}">${esc(label('severity', x.severity))}</span></td>
      <td>${esc(x.asset_id)}</td>
      <td>${esc(describe(x))}</td>
      <td>${esc(label('state', x.state))}${x.acknowledged_at ? ` <span class="ack" title="${esc(t('board.acknowledged_at', { at: when(x.acknowledged_at) }))}">✓</span>` : ''}</td>
      <td>${x.engineer_id ? esc(engineerName(x.engineer_id)) : `<span class="unassigned">${esc(t('board.unassigned'))}</span>`}</td></tr>`).join('');
  const row = focusedId && $('rows').querySelector(`tr.row[data-id="${CSS.escape(focusedId)}"]`);
  (onPick ? row?.querySelector('.pick') : row)?.focus();
  tick();
}

/** Countdowns move every second and change colour as deadlines near. */
function tick() {
  const now = Date.now();
  const byId = new Map(state.tickets.map((x) => [x.id, x]));
  document.querySelectorAll('td.due').forEach((cell) => {
    const x = byId.get(cell.dataset.id);
    if (!x) return;
    const u = urgency(x, now);
    cell.className = `due u-${u}`;
    cell.dataset.urgency = u;
    const risk = x.deadline_at_risk && ['open', 'assigned', 'accepted', 'en_route'].includes(x.state);
    cell.innerHTML = `${esc(countdown(x, now) || label('state', x.state))}${risk ? ` <span class="risk">${esc(t('board.at_risk'))}</span>` : ''}`;
  });
}

// ---- the ticket ----

let showing = 0;

/** Shows ticket `id`. Only the latest request renders (two quick clicks
 *  show the second ticket); a live update (`quiet`) re-renders only when
 *  the ticket changed and never while the picker is open. */
async function show(id, quiet = false) {
  const mine = ++showing;
  if (!quiet) {
    state.selected = id;
    writeFilters();
    document.querySelectorAll('tr.row').forEach((r) => { r.classList.toggle('selected', r.dataset.id === id); r.setAttribute('aria-selected', r.dataset.id === id); });
  }
  const x = await api(`/api/v1/tickets/${encodeURIComponent(id)}`);
  if (mine !== showing || state.selected !== id) return;
  const version = `${x.id}:${x.updated_at}:${x.evidence_count}:${x.events.length}:${x.parts.map((p) => p.status).join()}`;
  if (quiet && (version === state.version || $('picker')?.childElementCount)) return;
  state.detail = x;
  state.version = version;
  const asset = state.assets.get(x.asset_id);
  const steps = (STEPS[x.state] ?? []).map((to) => `<button data-to="${to}">${esc(t(`step.${to}`))}</button>`).join('');
  $('detail').innerHTML = `
    <h2>${esc(x.id)} · <span class="sev sev-${esc(x.severity)}">${esc(label('severity', x.severity))}</span> · ${esc(label('state', x.state))}</h2>
    <p class="lead">${esc(describe(x))}</p>
    <p>${esc(t('detail.asset', { asset: x.asset_id, model: label('model', x.model), customer: asset?.customer ?? '—', site: asset?.site ?? '—' }))}</p>
    <dl class="deadlines">${deadlineRows(x)}</dl>
    <div class="actions">${steps}
      ${['open', 'assigned'].includes(x.state) ? `<button id="pick" class="primary">${esc(t('action.reassign'))}</button>` : ''}
      ${x.state === 'assigned' ? `<button id="decline">${esc(t('action.decline'))}</button>` : ''}
      ${['assigned', 'accepted', 'en_route'].includes(x.state) ? `<button id="book">${esc(t('visit.book'))}</button>` : ''}
      ${['open', 'assigned', 'accepted', 'en_route', 'on_site'].includes(x.state) ? `<button id="ack-one">${esc(t('board.acknowledge'))}</button>` : ''}</div>
    <div id="picker"></div>
    <h3>${esc(t('detail.readings'))}</h3><div id="charts" class="charts"></div>
    <h3>${esc(t('detail.checks'))}</h3><ul class="checks">${checkWords(x)}</ul>
    <h3>${esc(t('detail.assignment'))}</h3>
    <p>${x.engineer_id ? esc(`${engineerName(x.engineer_id)} (${x.engineer_id})`) : esc(t('board.unassigned'))}</p>
    <p class="note">${esc(x.assignment_note)}</p>
    ${visitLine(x)}
    <h3>${esc(t('detail.after_sales'))}</h3>
    <p>${esc(label('warranty', x.warranty))}: ${esc(x.warranty_note)}</p>
    <p>${esc(label('remedy', x.remedy))}: ${esc(x.remedy_note)}</p>
    ${x.quote ? `<p>${esc(t('detail.quote', { amount: num(x.quote.total, 2), currency: x.quote.currency }))} · ${x.quote_accepted_at ? esc(t('detail.quote_accepted', { at: when(x.quote_accepted_at) })) : esc(t('detail.quote_waiting'))}</p>` : ''}
    <h3>${esc(t('detail.parts'))}</h3>${partsTable(x.parts, state.depots)}
    <h3>${esc(t('photo.list'))}</h3><ul id="files" class="files"></ul>
    <h3>${esc(t('detail.history'))}</h3><button id="note">${esc(t('note.add'))}</button>${historyList(x.events, engineerName)}`;
  showFiles(x);
  wireArrivals($('detail'), x.id, () => { notify(t('notice.done', { id: x.id })); return refresh(); });
  drawCharts(x);
  document.querySelectorAll('#detail [data-to]').forEach((b) => { b.onclick = () => step(x, b.dataset.to); });
  if ($('pick')) $('pick').onclick = () => picker(x);
  if ($('decline')) $('decline').onclick = () => decline(x);
  if ($('book')) $('book').onclick = () => book(x);
  $('note').onclick = async () => {
    const data = await formDialog(t('note.title', { id: x.id }), noteForm());
    if (data) await act(x.id, 'comments', { text: data.get('text') });
  };
  if ($('ack-one')) $('ack-one').onclick = () => acknowledge([x.id]);
  renderMap(x);
}

function deadlineRows(x) {
  const rows = [['response', x.response_due], ['on_site', x.on_site_due], ['resolution', x.resolution_due]].filter(([, at]) => at);
  const next = nextDeadline(x)?.which;
  return rows.map(([which, at]) => `<dt>${esc(t(`deadline.${which}`))}</dt><dd class="${which === next ? `u-${urgency(x)}` : ''}">${esc(when(at))}${which === next ? ` · ${esc(countdown(x))}` : ''}</dd>`).join('')
    + `<dt>${esc(t('detail.sla'))}</dt><dd>${esc(x.sla_tier)}</dd>`;
}

/** One chart per metric the evidence carries: its samples over every
 *  evidence record, the rule's limit in the metric's units, the forecast. */
function drawCharts(x) {
  const host = $('charts');
  const series = new Map();
  let latest = null;
  for (const e of x.evidence) {
    latest = e.body;
    for (const w of e.body.windows ?? []) {
      const m = series.get(w.metric) ?? new Map();
      for (const [at, v] of w.samples) m.set(at, v);
      series.set(w.metric, m);
    }
  }
  const checks = flat(x.rule?.when);
  for (const [metric, samples] of series) {
    const own = checks.filter((c) => c.metric === metric);
    const bound = (own.find((c) => c.detector === 'threshold') ?? own.find((c) => c.detector === 'forecast'))?.bound;
    const limit = bound ? Object.values(bound)[0] : null;
    const outcome = latest?.checks.find((c) => c.metric === metric && c.detector === 'forecast');
    const rule = own.find((c) => c.detector === 'forecast');
    // A crossing far beyond the rule's horizon says little and would squash the readings.
    const near = outcome && rule && Number.isFinite(outcome.observed) && outcome.observed * HOUR <= 2 * spanMs(rule.horizon);
    const forecast = near ? { at: latest.at + outcome.observed * HOUR, value: Object.values(rule.bound)[0] } : null;
    const div = document.createElement('figure');
    div.dataset.metric = metric;
    host.append(div);
    const points = [...samples].sort((a, b) => a[0] - b[0]);
    drawChart(div, { title: `${metricName(metric)} (${unit(metric)})`, unit: unit(metric), samples: points, limit, forecast, detected: x.detected_at });
    const cap = document.createElement('figcaption');
    cap.textContent = `${metricName(metric)} · ${t('chart.caption', { count: points.length })}`;
    div.append(cap);
  }
  if (!series.size) host.textContent = t('chart.no_samples');
}

async function step(x, to) {
  if (to === 'resolved') return resolve(x);
  if (!await confirmDialog(t('confirm.step', { id: x.id, step: t(`step.${to}`) }))) return;
  await act(x.id, 'transition', { to });
}

async function resolve(x) {
  const data = await formDialog(t('report.title', { id: x.id }), reportForm(x.parts));
  if (data) await act(x.id, 'report', reportBody(data, x.parts));
}

async function decline(x) {
  const data = await formDialog(t('decline.title', { name: engineerName(x.engineer_id) }),
    `<label>${esc(t('decline.reason'))}<input name="reason" required maxlength="500"></label>`);
  if (data) await act(x.id, 'decline', { engineer_id: x.engineer_id, reason: data.get('reason') });
}

/** The ticket's photos and documents, each opened on demand. */
async function showFiles(x) {
  const base = `/api/v1/tickets/${encodeURIComponent(x.id)}/attachments`;
  const files = await api(base).catch(() => []);
  if (state.detail?.id !== x.id) return;
  $('files').innerHTML = files.length ? files.map((f) => `<li><button data-file="${esc(f.id)}">${esc(t('photo.open'))}</button>
    ${esc(f.caption || f.media)} <small>${esc(f.author)} · ${esc(when(f.at))} · ${esc(num(f.bytes / 1024, 0))} kB</small></li>`).join('') : `<li>${esc(t('photo.none'))}</li>`;
  $('files').querySelectorAll('button[data-file]').forEach((b) => {
    b.onclick = () => openFile(`${base}/${encodeURIComponent(b.dataset.file)}`).catch((e) => notify(e.message, true));
  });
}

async function book(x) {
  const data = await formDialog(t('visit.title', { id: x.id }), visitForm());
  if (data) await act(x.id, 'appointment', visitBody(data));
}

/** A customer's call: the unit, what they say, how to reach them, and the
 *  fault when it can be named (needed when no ticket is open for the unit). */
async function recordCall() {
  const models = await api('/api/v1/models');
  const faults = new Map(models.items.map((m) => [m.model, m.faults ?? []]));
  const units = [...state.assets.values()].sort((a, b) => a.id.localeCompare(b.id));
  const options = (asset) => (faults.get(state.assets.get(asset)?.model) ?? [])
    .map((f) => `<option value="${esc(f.fault)}">${esc(f.translations?.[lang] ?? f.description)}</option>`).join('');
  const html = `<label>${esc(t('call.asset'))}<select name="asset" required>${units.map((a) => `<option value="${esc(a.id)}">${esc(`${a.id} · ${a.customer}`)}</option>`).join('')}</select></label>
    <label>${esc(t('call.fault'))}<select name="fault"><option value="">${esc(t('call.fault_unknown'))}</option>${options(units[0]?.id)}</select></label>
    <label>${esc(t('call.symptom'))}<textarea name="symptom" required maxlength="2000"></textarea></label>
    <label>${esc(t('call.contact'))}<input name="contact" required maxlength="200"></label>
    <label>${esc(t('call.severity'))}<select name="severity"><option value="">${esc(t('call.severity_rule'))}</option>
      ${['general', 'major', 'emergency'].map((s) => `<option value="${s}">${esc(label('severity', s))}</option>`).join('')}</select></label>`;
  const pending = formDialog(t('call.title'), html);
  const form = document.querySelector('dialog[open] form');
  form.asset.onchange = () => { form.fault.innerHTML = `<option value="">${esc(t('call.fault_unknown'))}</option>${options(form.asset.value)}`; };
  const data = await pending;
  if (!data) return;
  try {
    const r = await api('/api/v1/tickets', {
      asset: data.get('asset'), fault: data.get('fault') || null, symptom: data.get('symptom'),
      contact: data.get('contact'), severity: data.get('severity') || null,
    });
    const id = r.ticket.id;
    notify(t(r.outcome === 'opened' ? 'call.opened' : 'call.attached', { id }));
    await refresh();
    await show(id);
  } catch (e) { notify(e.message, true); }
}

async function act(id, what, body) {
  try {
    await api(`/api/v1/tickets/${encodeURIComponent(id)}/${what}`, body);
    notify(t('notice.done', { id }));
    await refresh();
  } catch (e) { notify(e.message, true); }
}

/** The engineers dispatch would judge for this ticket: arrival, skills
 *  against the rule's levels, load; pick one to reassign. */
async function picker(x) {
  const host = $('picker');
  host.innerHTML = `<p>${esc(t('picker.loading'))}</p>`;
  const { items } = await api(`/api/v1/tickets/${encodeURIComponent(x.id)}/candidates?limit=15`);
  host.innerHTML = `<table class="picker"><caption>${esc(t('picker.title'))}</caption><thead><tr>
      <th>${esc(t('picker.engineer'))}</th><th>${esc(t('picker.arrival'))}</th><th>${esc(t('picker.skills'))}</th><th>${esc(t('picker.load'))}</th><th></th></tr></thead><tbody>
    ${items.map((c) => `<tr class="${c.unfit ? 'unfit' : c.on_time ? 'fit' : 'late'}" data-engineer="${esc(c.engineer_id)}">
      <td>${esc(c.name)} <small>${esc(c.engineer_id)}${c.flying ? ` · ${esc(t('picker.flying'))}` : ''}</small></td>
      <td>${c.arrival ? esc(when(c.arrival)) : '—'} <small>${esc(t('picker.travel', { m: num(c.travel_minutes, 0) }))}</small>
        ${c.arrival ? `<span class="${c.on_time ? 'ok' : 'risk'}">${esc(t(c.on_time ? 'picker.on_time' : 'picker.late'))}</span>` : ''}</td>
      <td>${c.skills.map(([s, has, need]) => `<span class="${has >= need ? 'ok' : 'risk'}">${esc(label('skill', s))} ${has}/${need}</span>`).join(' ')}</td>
      <td>${c.load}/${c.capacity}</td>
      <td>${c.engineer_id === x.engineer_id ? `<small>${esc(t('picker.current'))}</small>` : c.unfit ? `<small>${esc(t(`unfit.${c.unfit}`))}</small>` : `<button class="assign" data-engineer="${esc(c.engineer_id)}" data-name="${esc(c.name)}">${esc(t('picker.assign'))}</button>`}</td></tr>`).join('')}
    </tbody></table>`;
  host.querySelectorAll('button.assign').forEach((b) => {
    b.onclick = async () => {
      if (!await confirmDialog(t('confirm.reassign', { id: x.id, name: b.dataset.name }))) return;
      await act(x.id, 'reassign', { engineer_id: b.dataset.engineer });
    };
  });
  host.querySelector('button.assign')?.focus();
}

async function acknowledge(ids) {
  try {
    const r = await api('/api/v1/tickets/acknowledge', { ids });
    notify(t('notice.acknowledged', { n: r.acknowledged.length, skipped: r.skipped.length }));
    state.chosen.clear();
    $('ack').disabled = true;
    $('all').checked = false;
    await refresh();
  } catch (e) { notify(e.message, true); }
}

/** A rule file's span ("20m", "48h", "2d") in milliseconds. */
function spanMs(text) {
  const [, n, u] = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(String(text)) ?? [];
  return Number(n) * ({ ms: 1, s: 1000, m: 60000, h: HOUR, d: 24 * HOUR }[u] ?? NaN);
}

// ---- planning: timeline and map ----

async function loadEngineers() {
  const page = await api('/api/v1/engineers?limit=1000');
  state.engineers = new Map(page.items.map((e) => [e.engineer.id, e]));
}

/** Today and tomorrow in the viewer's time zone: each engineer's shifts,
 *  jobs (travel, then on site) and load; a job opens its ticket. */
function renderTimeline() {
  const start = new Date(); start.setHours(0, 0, 0, 0);
  const from = start.getTime(), to = from + 48 * HOUR, now = Date.now();
  const pct = (ms) => `${(Math.max(0, Math.min(1, (ms - from) / (to - from))) * 100).toFixed(2)}%`;
  const width = (a, b) => `${(Math.max(0, (Math.min(b, to) - Math.max(a, from)) / (to - from)) * 100).toFixed(2)}%`;
  const ticket = new Map(state.tickets.map((x) => [x.id, x]));
  const engineers = [...state.engineers.values()].sort((a, b) => b.agenda.length - a.agenda.length || a.engineer.name.localeCompare(b.engineer.name));
  const hours = Array.from({ length: 9 }, (_, i) => from + i * 6 * HOUR);
  $('timeline').innerHTML = `<div class="tl-head"><span></span><div class="tl-axis">${hours.map((h) => `<span style="left:${pct(h)}">${esc(when(h, true))}</span>`).join('')}</div></div>
    ${engineers.map((e) => `<div class="tl-row${e.unavailable ? ' away' : ''}" data-engineer="${esc(e.engineer.id)}">
      <span class="tl-name">${esc(e.engineer.name)} <small>${e.load}/${e.engineer.capacity}${e.unavailable ? ` · ${esc(t('timeline.unavailable'))}` : ''}</small></span>
      <div class="tl-lane">
        ${e.shifts.map(([a, b]) => `<span class="tl-shift" style="left:${pct(a)};width:${width(a, b)}"></span>`).join('')}
        ${e.agenda.map((v) => `<span class="tl-travel" style="left:${pct(v.depart)};width:${width(v.depart, v.arrive)}"></span>
          <button class="tl-job sev-${esc(ticket.get(v.ticket)?.severity ?? 'general')}" data-ticket="${esc(v.ticket)}" style="left:${pct(v.arrive)};width:${width(v.arrive, v.leave)}"
            title="${esc(`${v.ticket} · ${ticket.get(v.ticket)?.asset_id ?? ''} · ${when(v.arrive)}–${when(v.leave, true)}`)}">${esc(ticket.get(v.ticket)?.asset_id ?? v.ticket)}</button>`).join('')}
        <span class="tl-now" style="left:${pct(now)}"></span>
      </div></div>`).join('')}`;
  $('timeline').querySelectorAll('.tl-job').forEach((b) => { b.onclick = () => show(b.dataset.ticket); });
}

function renderMap(selected) {
  if ($('map').hidden) return;
  const worst = new Map();
  for (const x of state.tickets) {
    if (!['open', 'assigned', 'accepted', 'en_route', 'on_site'].includes(x.state)) continue;
    const w = worst.get(x.asset_id);
    if (!w || SEVERITY_RANK[x.severity] < SEVERITY_RANK[w]) worst.set(x.asset_id, x.severity);
  }
  const parts = selected?.parts ?? [];
  const needed = new Set(parts.map((p) => p.part));
  const depots = state.depots.map((d) => ({ ...d,
    stock: Object.entries(d.on_hand).filter(([p]) => needed.has(p)).map(([p, n]) => `${p} ×${n}`).join(', ') }));
  const site = selected && state.assets.get(selected.asset_id)?.location;
  const holder = selected?.engineer_id && state.engineers.get(selected.engineer_id)?.position;
  const partDepots = parts.map((p) => state.depots.find((d) => d.id === p.depot_id)?.location).filter(Boolean);
  drawMap($('map'), {
    assets: [...state.assets.values()].map((a) => ({ id: a.id, location: a.location, worst: worst.get(a.id) ?? null, selected: a.id === selected?.asset_id })),
    engineers: [...state.engineers.values()].map((e) => ({ id: e.engineer.id, name: e.engineer.name, position: e.position, fresh: e.position_at != null })),
    depots,
    route: site ? { from: holder, to: site, parts: partDepots } : null,
    tiles: state.settings.map_tiles,
    onAsset: (id) => { const x = visibleTickets().find((v) => v.asset_id === id); if (x) show(x.id); },
  });
}

function tabs() {
  const pick = (which) => {
    $('tab-timeline').setAttribute('aria-selected', which === 'timeline');
    $('tab-map').setAttribute('aria-selected', which === 'map');
    $('timeline').hidden = which !== 'timeline';
    $('map').hidden = which !== 'map';
    if (which === 'map') renderMap(state.detail);
  };
  $('tab-timeline').onclick = () => pick('timeline');
  $('tab-map').onclick = () => pick('map');
}

// ---- wiring ----

/** Re-reads the board and the engineers (a role that may not read
 *  engineers gets no timeline, not an error), then the ticket shown;
 *  `quiet` for live updates. */
async function refresh(quiet = false) {
  const [board] = await Promise.allSettled([loadBoard(), loadEngineers()]);
  if (board.status === 'rejected') notify(board.reason.message, true);
  renderBoard();
  renderTimeline();
  if (state.selected) await show(state.selected, quiet).catch((e) => notify(e.message, true));
  else renderMap(null);
}

async function signedIn(who) {
  state.me = who;
  $('signin').hidden = true; $('signout').hidden = false; $('work').hidden = false; $('filters').hidden = false;
  $('whoami').textContent = `${who.name} · ${label('role', who.role)}`;
  const [assets, depots, settings] = await Promise.all([api('/api/v1/assets?limit=1000'), api('/api/v1/depots?limit=1000').catch(() => ({ items: [] })), api('/ui/settings.json')]);
  state.assets = new Map(assets.items.map((a) => [a.id, a]));
  state.depots = depots.items;
  state.settings = settings;
  await refresh();
  state.unwatch?.();
  state.unwatch = watchChanges(() => refresh(true));
}

function signedOut() {
  state.me = null;
  state.unwatch?.();
  state.unwatch = null;
  $('signin').hidden = false; $('signout').hidden = true; $('work').hidden = true; $('filters').hidden = true;
  $('whoami').textContent = '';
  notify(t('signin.prompt'));
}

async function main() {
  await loadCatalogue();
  languageSwitch($('lang'));
  readFilters();
  tabs();
  for (const id of ['f-state', 'f-severity']) $(id).onchange = () => { writeFilters(); loadBoard().then(renderBoard).catch((e) => notify(e.message, true)); };
  $('f-text').oninput = () => { writeFilters(); renderBoard(); };
  $('rows').onclick = (e) => {
    if (e.target.classList.contains('pick')) {
      if (e.target.checked) state.chosen.add(e.target.dataset.id); else state.chosen.delete(e.target.dataset.id);
      $('ack').disabled = !state.chosen.size;
      return;
    }
    const row = e.target.closest('tr.row');
    if (row) show(row.dataset.id).catch((err) => notify(err.message, true));
  };
  $('rows').onkeydown = (e) => {
    const row = e.target.closest('tr.row');
    if (!row) return;
    if (e.key === 'Enter') show(row.dataset.id).catch((err) => notify(err.message, true));
    if (e.key === 'ArrowDown') row.nextElementSibling?.focus();
    if (e.key === 'ArrowUp') row.previousElementSibling?.focus();
  };
  $('all').onchange = () => {
    state.chosen = new Set($('all').checked ? visibleTickets().map((x) => x.id) : []);
    $('ack').disabled = !state.chosen.size;
    renderBoard();
  };
  $('ack').onclick = async () => {
    const ids = [...state.chosen].slice(0, 200);
    if (await confirmDialog(t('confirm.acknowledge', { n: ids.length }))) await acknowledge(ids);
  };
  $('call').onclick = () => recordCall().catch((e) => notify(e.message, true));
  $('replan').onclick = async () => {
    if (!await confirmDialog(t('confirm.replan'))) return;
    try {
      const r = await api('/api/v1/replan', {});
      notify(t('notice.replanned', { considered: r.replan.considered, moved: r.replan.moved }));
      await refresh();
    } catch (e) { notify(e.message, true); }
  };
  setInterval(tick, 1000);
  session(signedIn, signedOut);
}

main();
