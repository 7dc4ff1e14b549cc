// What every page shares: the language and its catalogue, formatting in the
// viewer's locale and time zone, the API client (session cookie with its
// CSRF token, or an API token held for this tab), sign-in, and the live
// change stream. No framework and no build step: the engine serves these
// files as they are.

export const $ = (id) => document.getElementById(id);
export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

const LANGS = ['en', 'zh-CN'];
/** The viewer's language: their choice on this device, else the browser's. */
export const lang = (() => {
  const chosen = localStorage.getItem('upkeep-lang');
  if (LANGS.includes(chosen)) return chosen;
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language || 'en'];
  for (const l of wanted) {
    if (l.toLowerCase().startsWith('zh')) return 'zh-CN';
    if (l.toLowerCase().startsWith('en')) return 'en';
  }
  return 'en';
})();

let strings = {};
/** Keys asked for that the catalogue lacks: the browser suite fails on any. */
export const missing = new Set();
window.upkeepMissingStrings = missing;

/** Loads the catalogue and translates the page's static text. */
export async function loadCatalogue() {
  document.documentElement.lang = lang;
  strings = await (await fetch(`/ui/${lang}.json`)).json();
  translate(document);
}

/** The string `key` with `{name}` placeholders filled from `vars`. */
export function t(key, vars = {}) {
  let s = strings[key];
  if (s === undefined) { missing.add(key); s = key; }
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? `{${k}}`));
}

/** A stored enum's label (`state.en_route`), the raw value if unknown. */
export const label = (kind, value) => {
  if (value == null) return '';
  const key = `${kind}.${value}`;
  return key in strings ? strings[key] : String(value);
};

/** Fills `data-i18n` (text), `data-i18n-placeholder`, `-title` and `-aria` attributes under `root`. */
export function translate(root) {
  root.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  root.querySelectorAll('[data-i18n-placeholder]').forEach((el) => { el.placeholder = t(el.dataset.i18nPlaceholder); });
  root.querySelectorAll('[data-i18n-title]').forEach((el) => { el.title = t(el.dataset.i18nTitle); });
  root.querySelectorAll('[data-i18n-aria]').forEach((el) => { el.setAttribute('aria-label', t(el.dataset.i18nAria)); });
}

/** A language switch in `select`: the choice is kept on this device. */
export function languageSwitch(select) {
  select.innerHTML = LANGS.map((l) => `<option value="${l}" ${l === lang ? 'selected' : ''}>${esc(t(`lang.${l}`))}</option>`).join('');
  select.onchange = () => { localStorage.setItem('upkeep-lang', select.value); location.reload(); };
}

const dateTime = new Intl.DateTimeFormat(lang, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
const timeOnly = new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' });
/** A moment in the viewer's time zone; the time alone when `short`. */
export const when = (ms, short = false) => (ms == null ? '—' : (short ? timeOnly : dateTime).format(new Date(ms)));
export const num = (x, digits = 1) => (x == null || !Number.isFinite(x) ? '—'
  : new Intl.NumberFormat(lang, { maximumFractionDigits: digits }).format(x));

/** A span in days, hours and minutes ("2 h 05 min"), with seconds under
 *  an hour (the countdowns that matter move visibly), signless. */
export function span(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  if (s < 3600) return t('span.ms', { m: Math.floor(s / 60), s: String(s % 60).padStart(2, '0') });
  const m = Math.round(s / 60);
  const d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60), min = m % 60;
  return d > 0 ? t('span.dh', { d, h }) : t('span.hm', { h, m: String(min).padStart(2, '0') });
}

// Signed in by name and password, the session is an HttpOnly cookie and
// every write carries its CSRF token (held in memory, read again from the
// session route after a reload). Signed in by an API token, the token lives
// for this tab only (sessionStorage) and goes out as a bearer header.
const token = () => sessionStorage.getItem('upkeep-token');
let csrf = null;
let onSignedOut = () => {};

export class ApiError extends Error {
  constructor(status, code, message) { super(message); this.status = status; this.code = code; }
}

/** The caller's credentials as headers: the bearer token, and for a write
 *  in a cookie session the CSRF token. */
function credentials(writing) {
  const headers = {};
  if (token()) headers.authorization = `Bearer ${token()}`;
  if (writing && csrf) headers['x-csrf-token'] = csrf;
  return headers;
}

/** Calls the API; a body makes it a POST (or `method`). Errors carry the
 *  API's code and message. `anonymous`: no token and no cookie (the
 *  customer's page, whose progress code is the key). */
export async function api(path, body, method, { anonymous = false } = {}) {
  const writing = body !== undefined || (method && method !== 'GET');
  const headers = anonymous ? {} : credentials(writing);
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, {
    method: method ?? (body !== undefined ? 'POST' : 'GET'), headers, credentials: anonymous ? 'omit' : 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (res.status === 401 && path !== '/api/v1/login') { sessionStorage.removeItem('upkeep-token'); onSignedOut(); }
  if (!res.ok) throw new ApiError(res.status, data.error?.code, data.error?.message ?? res.statusText);
  return data;
}

/** Sends `file` as the raw body of a POST to `path` (an attachment). */
export async function upload(path, file) {
  const headers = { ...credentials(true), 'content-type': file.type || 'application/octet-stream' };
  const res = await fetch(path, { method: 'POST', headers, credentials: 'same-origin', body: file });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, data.error?.code, data.error?.message ?? res.statusText);
  return data;
}

/** Opens the answer of GET `path` (with the caller's credentials) in a new tab. */
export async function openFile(path) {
  const res = await fetch(path, { headers: credentials(false), credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, null, res.statusText);
  window.open(URL.createObjectURL(await res.blob()), '_blank', 'noopener');
}

/** Saves the answer of GET `path` (with the caller's credentials) as `filename`. */
export async function download(path, filename) {
  const res = await fetch(path, { headers: credentials(false), credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, null, res.statusText);
  const a = document.createElement('a');
  a.href = URL.createObjectURL(await res.blob());
  a.download = filename;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Wires a sign-in form (`#signin` with `#user`, `#secret`) and `#signout`;
 *  calls `ready(who)` once signed in (also after a reload) and `gone()` when not. */
export function session(ready, gone) {
  onSignedOut = gone;
  const signedIn = (who) => { notify(''); return ready(who); };
  $('signin').onsubmit = async (e) => {
    e.preventDefault();
    const name = $('user').value.trim(), secret = $('secret').value;
    $('secret').value = '';
    try {
      if (name) {
        const who = await api('/api/v1/login', { name, password: secret });
        sessionStorage.removeItem('upkeep-token'); csrf = who.csrf_token; await signedIn(who);
      } else {
        sessionStorage.setItem('upkeep-token', secret.trim()); await signedIn(await api('/api/v1/session'));
      }
    } catch (err) { sessionStorage.removeItem('upkeep-token'); notify(err.message, true); }
  };
  $('signout').onclick = async () => {
    if (!token()) await api('/api/v1/logout', {}).catch(() => {});
    sessionStorage.removeItem('upkeep-token'); csrf = null; gone();
  };
  api('/api/v1/session').then((who) => { csrf = who.csrf_token; return signedIn(who); }).catch(() => gone());
}

/** A message in the page's live region (`#notice`), read out by screen readers. */
export function notify(message, error = false) {
  const n = $('notice');
  n.textContent = message;
  n.className = error ? 'notice error' : 'notice';
}

/** Asks in a modal dialog; resolves true on confirm. */
export function confirmDialog(message) {
  const d = document.createElement('dialog');
  d.innerHTML = `<form method="dialog"><p>${esc(message)}</p><menu><button type="button" value="no">${esc(t('action.cancel'))}</button>
    <button value="yes" class="primary" autofocus>${esc(t('action.confirm'))}</button></menu></form>`;
  document.body.append(d);
  d.querySelector('button[value="no"]').onclick = () => d.close('no');
  return new Promise((resolve) => {
    d.addEventListener('close', () => { resolve(d.returnValue === 'yes'); d.remove(); });
    d.showModal();
  });
}

/** A modal form dialog built from `html`; resolves with its FormData, or null when cancelled. */
export function formDialog(title, html) {
  const d = document.createElement('dialog');
  d.innerHTML = `<form method="dialog"><h2>${esc(title)}</h2>${html}<menu><button type="button" value="no">${esc(t('action.cancel'))}</button>
    <button value="yes" class="primary">${esc(t('action.confirm'))}</button></menu></form>`;
  document.body.append(d);
  d.querySelector('button[value="no"]').onclick = () => d.close('no');
  const form = d.querySelector('form');
  return new Promise((resolve) => {
    d.addEventListener('close', () => { resolve(d.returnValue === 'yes' ? new FormData(form) : null); d.remove(); });
    d.showModal();
  });
}

/** Calls `changed` whenever a ticket moves (server-sent events read through
 *  fetch, so a bearer token can go along); reconnects with a growing pause.
 *  Returns the function that stops watching (signing out); a refused
 *  credential stops it too. */
export function watchChanges(changed) {
  let pause = 1000, timer = null;
  const stop = new AbortController();
  const soon = () => { clearTimeout(timer); timer = setTimeout(changed, 300); };
  async function connect() {
    try {
      const headers = token() ? { authorization: `Bearer ${token()}` } : {};
      const res = await fetch('/api/v1/stream', { headers, signal: stop.signal });
      if (res.status === 401 || res.status === 403) return;
      if (!res.ok) throw new Error(String(res.status));
      pause = 1000;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        const frames = buffer.split('\n\n');
        buffer = frames.pop();
        if (frames.some((f) => f.includes('event: changed'))) soon();
      }
    } catch { /* the engine restarts: try again later */ }
    if (stop.signal.aborted) return;
    pause = Math.min(pause * 2, 30000);
    setTimeout(connect, pause);
  }
  connect();
  return () => { clearTimeout(timer); stop.abort(); };
}

/** The next SLA deadline still running for `t`, and which one. */
export function nextDeadline(t) {
  const before = (states) => states.includes(t.state);
  const due = [];
  if (before(['open', 'assigned'])) due.push(['response', t.response_due]);
  if (before(['open', 'assigned', 'accepted', 'en_route'])) due.push(['on_site', t.on_site_due]);
  if (before(['open', 'assigned', 'accepted', 'en_route', 'on_site']) && t.resolution_due) due.push(['resolution', t.resolution_due]);
  due.sort((a, b) => a[1] - b[1]);
  return due[0] ? { which: due[0][0], at: due[0][1] } : null;
}

/** `late`, `red` (under a fifth of its span left), `amber` (under half) or `ok`. */
export function urgency(t, now = Date.now()) {
  const d = nextDeadline(t);
  if (!d) return 'done';
  const left = d.at - now, total = Math.max(d.at - t.detected_at, 1);
  if (left < 0) return 'late';
  if (left < total * 0.2) return 'red';
  if (left < total * 0.5) return 'amber';
  return 'ok';
}

export const SEVERITY_RANK = { emergency: 0, major: 1, general: 2 };

/** The board's order: unassigned, late or at risk first unless a
 *  dispatcher acknowledged them; then the least time left to the next
 *  deadline; then severity. */
export function boardOrder(a, b, now = Date.now()) {
  const shouting = (x) => x.state === 'open' || urgency(x, now) === 'late' || (x.deadline_at_risk && nextDeadline(x)?.which !== 'resolution');
  const pressing = (x) => (shouting(x) && !x.acknowledged_at ? 0 : 1);
  const left = (x) => nextDeadline(x)?.at ?? Infinity;
  return pressing(a) - pressing(b) || left(a) - left(b) || SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity];
}

/** "2 h 05 min left" or "late by 12 min" for the next deadline. */
export function countdown(ticket, now = Date.now()) {
  const d = nextDeadline(ticket);
  if (!d) return '';
  const left = d.at - now;
  const vars = { which: t(`deadline.${d.which}`), span: span(left) };
  return t(left >= 0 ? 'countdown.left' : 'countdown.late', vars);
}

/** The ticket's description in the viewer's language, from the rule's translations. */
export const describe = (ticket) => ticket.translations?.[lang] ?? ticket.description ?? ticket.fault;

/** The unit of a metric from its name's suffix (`vibration_rms_mm_s` → mm/s). */
export function unit(metric) {
  const units = [['_mm_s', 'mm/s'], ['_c', '°C'], ['_bar', 'bar'], ['_a', 'A'], ['_kw', 'kW'], ['_m3h', 'm³/h'], ['_rpm', 'rpm'], ['_pct', '%'], ['_hz', 'Hz'], ['_v', 'V'], ['_g', 'g']];
  return units.find(([s]) => metric.endsWith(s))?.[1] ?? '';
}

/** A metric's name in the viewer's language (catalogue `metric.*`), else its words. */
export function metricName(metric) {
  const key = `metric.${metric}`;
  return key in strings ? strings[key] : metric.replace(/_/g, ' ');
}
