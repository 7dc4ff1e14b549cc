// The engineer's view, made for a phone: my tickets in working order, the
// steps of the job (accept or decline with a reason, en route, on site, the
// service report), my position and my availability.

import {
  $, esc, t, label, when, api, upload, session, notify, confirmDialog, formDialog, watchChanges,
  loadCatalogue, languageSwitch, countdown, urgency, describe,
} from './common.js';
import {
  checkWords, partsTable, reportForm, reportBody, visitLine, visitForm, visitBody, photoForm, noteForm, wireArrivals,
} from './words.js';

const NEXT = { assigned: 'accepted', accepted: 'en_route', en_route: 'on_site' };
const ORDER = ['on_site', 'en_route', 'accepted', 'assigned'];
/** A visit is agreed while the engineer holds the ticket, before site. */
const BOOKABLE = ['assigned', 'accepted', 'en_route'];
let me = null;
let unwatch = null;

async function load() {
  const [page, mine] = await Promise.all([
    api('/api/v1/tickets?active=true&limit=200'),
    api('/api/v1/engineers?limit=1'),
  ]);
  const self = mine.items[0];
  $('status').textContent = [
    self?.unavailable ? t('field.status_away') : t('field.status_working'),
    self?.position_at ? t('field.position_at', { at: when(self.position_at) }) : t('field.position_home'),
    t('field.load', { load: self?.load ?? 0, capacity: self?.engineer.capacity ?? 0 }),
  ].join(' · ');
  $('away').hidden = Boolean(self?.unavailable);
  $('back').hidden = !self?.unavailable;
  const order = new Map((self?.agenda ?? []).map((v, i) => [v.ticket, v]));
  const jobs = page.items.filter((x) => ORDER.includes(x.state))
    .sort((a, b) => ORDER.indexOf(a.state) - ORDER.indexOf(b.state) || a.on_site_due - b.on_site_due);
  const details = await Promise.all(jobs.map((x) => api(`/api/v1/tickets/${encodeURIComponent(x.id)}`)));
  // A live update keeps what the engineer had opened.
  const opened = new Set([...$('jobs').querySelectorAll('details[open]')].map((d) => d.dataset.key));
  $('jobs').innerHTML = details.length ? details.map((x) => card(x, order.get(x.id))).join('') : `<li class="card">${esc(t('field.no_jobs'))}</li>`;
  $('jobs').querySelectorAll('details').forEach((d) => { d.open = opened.has(d.dataset.key); });
  $('jobs').querySelectorAll('li.job').forEach((li) => wireArrivals(li, li.dataset.id, load));
  $('jobs').querySelectorAll('button[data-act]').forEach((b) => {
    const x = details.find((d) => d.id === b.dataset.id);
    b.onclick = () => act(x, b.dataset.act).catch((e) => notify(e.message, true));
  });
}

function card(x, visit) {
  const next = NEXT[x.state];
  return `<li class="card job" data-id="${esc(x.id)}">
    <h3><span class="sev sev-${esc(x.severity)}">${esc(label('severity', x.severity))}</span> ${esc(x.asset_id)} · ${esc(label('state', x.state))}</h3>
    <p class="lead">${esc(describe(x))}</p>
    <p class="u-${urgency(x)}">${esc(countdown(x))}</p>
    ${visit ? `<p>${esc(t('field.plan', { depart: when(visit.depart, true), arrive: when(visit.arrive, true) }))}</p>` : ''}
    ${visitLine(x)}
    <details data-key="${esc(x.id)}:checks"><summary>${esc(t('detail.checks'))}</summary><ul class="checks">${checkWords(x)}</ul></details>
    <details data-key="${esc(x.id)}:parts"><summary>${esc(t('detail.parts'))}</summary>${partsTable(x.parts)}</details>
    <div class="actions">
      ${next ? `<button class="primary" data-act="${next}" data-id="${esc(x.id)}">${esc(t(`step.${next}`))}</button>` : ''}
      ${x.state === 'assigned' ? `<button data-act="decline" data-id="${esc(x.id)}">${esc(t('action.decline'))}</button>` : ''}
      ${BOOKABLE.includes(x.state) ? `<button data-act="book" data-id="${esc(x.id)}">${esc(t('visit.book'))}</button>` : ''}
      ${x.state === 'on_site' ? `<button class="primary" data-act="report" data-id="${esc(x.id)}">${esc(t('field.file_report'))}</button>` : ''}
      <button data-act="photo" data-id="${esc(x.id)}">${esc(t('photo.add'))}</button>
      <button data-act="note" data-id="${esc(x.id)}">${esc(t('note.add'))}</button>
    </div></li>`;
}

async function act(x, what) {
  const path = `/api/v1/tickets/${encodeURIComponent(x.id)}`;
  if (what === 'decline') {
    const data = await formDialog(t('decline.mine'), `<label>${esc(t('decline.reason'))}<input name="reason" required maxlength="500"></label>`);
    if (!data) return;
    await api(`${path}/decline`, { engineer_id: me.engineer_id, reason: data.get('reason') });
  } else if (what === 'photo') {
    const data = await formDialog(t('photo.title', { id: x.id }), photoForm());
    if (!data) return;
    await upload(`${path}/attachments?caption=${encodeURIComponent(data.get('caption') ?? '')}`, data.get('file'));
  } else if (what === 'note') {
    const data = await formDialog(t('note.title', { id: x.id }), noteForm());
    if (!data) return;
    await api(`${path}/comments`, { text: data.get('text') });
  } else if (what === 'book') {
    const data = await formDialog(t('visit.title', { id: x.id }), visitForm());
    if (!data) return;
    await api(`${path}/appointment`, visitBody(data));
  } else if (what === 'report') {
    const data = await formDialog(t('report.title', { id: x.id }), reportForm(x.parts));
    if (!data) return;
    await api(`${path}/report`, reportBody(data, x.parts));
  } else {
    if (!await confirmDialog(t('confirm.step', { id: x.id, step: t(`step.${what}`) }))) return;
    await api(`${path}/transition`, { to: what });
  }
  notify(t('notice.done', { id: x.id }));
  await load();
}

async function reportPosition() {
  const send = async (lat, lon) => {
    await api(`/api/v1/engineers/${encodeURIComponent(me.engineer_id)}/position`, { lat, lon });
    notify(t('field.position_sent'));
    await load();
  };
  if (navigator.geolocation) {
    navigator.geolocation.getCurrentPosition(
      (p) => send(p.coords.latitude, p.coords.longitude).catch((e) => notify(e.message, true)),
      () => manualPosition(send), { timeout: 10000 });
  } else manualPosition(send);
}

async function manualPosition(send) {
  const data = await formDialog(t('field.report_position'), `<p>${esc(t('field.no_gps'))}</p>
    <label>${esc(t('field.lat'))}<input name="lat" type="number" step="any" min="-90" max="90" required></label>
    <label>${esc(t('field.lon'))}<input name="lon" type="number" step="any" min="-180" max="180" required></label>`);
  if (data) await send(Number(data.get('lat')), Number(data.get('lon'))).catch((e) => notify(e.message, true));
}

async function away() {
  const data = await formDialog(t('field.unavailable'), `<label>${esc(t('field.why'))}<input name="reason" required maxlength="500"></label>
    <label>${esc(t('field.until'))}<input name="until" type="datetime-local"></label>`);
  if (!data) return;
  const until = data.get('until') ? new Date(data.get('until')).toISOString() : undefined;
  const r = await api(`/api/v1/engineers/${encodeURIComponent(me.engineer_id)}/unavailable`, { reason: data.get('reason'), until });
  notify(t('field.away_done', { moved: r.replan.moved }));
  await load();
}

async function signedIn(who) {
  me = who;
  $('signin').hidden = true; $('signout').hidden = false; $('work').hidden = false;
  $('whoami').textContent = `${who.name} · ${label('role', who.role)}`;
  if (!who.engineer_id) { notify(t('field.not_engineer'), true); return; }
  await load();
  unwatch?.();
  unwatch = watchChanges(() => load().catch((e) => notify(e.message, true)));
}

function signedOut() {
  me = null;
  unwatch?.();
  unwatch = null;
  $('signin').hidden = false; $('signout').hidden = true; $('work').hidden = true;
  notify(t('signin.prompt'));
}

async function main() {
  await loadCatalogue();
  languageSwitch($('lang'));
  $('locate').onclick = () => reportPosition();
  $('away').onclick = () => away().catch((e) => notify(e.message, true));
  $('back').onclick = async () => {
    await api(`/api/v1/engineers/${encodeURIComponent(me.engineer_id)}/available`, {}).catch((e) => notify(e.message, true));
    await load();
  };
  session(signedIn, signedOut);
}

main();
