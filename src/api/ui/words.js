// Ticket parts shared by the console and the engineer's view, in words:
// the checks that fired, the history, the parts and the service report form.

import { esc, t, label, when, num, metricName, unit, api, notify } from './common.js';

/** The rule's checks in the engine's order (depth first). */
export function flat(c) {
  // Leaves serialise as { check: {...} }.
  if (!c) return [];
  if (c.all) return c.all.flatMap(flat);
  if (c.any) return c.any.flatMap(flat);
  return [c.check ?? c];
}

/** A check's sentence: the observed quantity against the rule's limit. */
function sentence(outcome, rule) {
  const { metric, detector, observed } = outcome;
  const bound = rule?.bound ? Object.entries(rule.bound)[0] : null;
  const vars = {
    metric: metricName(metric), unit: unit(metric), value: num(observed, 2),
    side: bound ? t(`check.${bound[0]}`) : '', limit: bound ? num(bound[1], 2) : '—',
    held: rule?.held ?? rule?.after ?? '', horizon: rule?.horizon ?? '',
  };
  return t(`check.${detector}`, vars);
}

/** Each check of the latest evidence as a sentence, the ones that fired marked. */
export function checkWords(ticket) {
  const latest = ticket.evidence?.[ticket.evidence.length - 1]?.body;
  if (!latest) return `<li>${esc(t('check.none'))}</li>`;
  const rules = flat(ticket.rule?.when);
  // Outcomes follow the rule's checks in order; a check not ready yet (warming up) has none.
  let next = 0;
  return latest.checks.map((c) => {
    const k = rules.findIndex((x, i) => i >= next && x.metric === c.metric && x.detector === c.detector);
    if (k >= 0) next = k + 1;
    const r = rules[k];
    return `<li class="${c.fired ? 'fired' : 'quiet'}"><span class="mark" aria-label="${esc(t(c.fired ? 'check.fired' : 'check.quiet'))}">${c.fired ? '●' : '○'}</span> ${esc(sentence(c, r))}</li>`;
  }).join('');
}

/** The history as a timeline, newest last. */
export function historyList(events, engineerName) {
  return `<ol class="history">${events.map((e) => `<li><time>${esc(when(e.at))}</time>
    <b>${esc(label('event', e.kind))}</b>${e.to_state && e.from_state !== e.to_state ? ` ${esc(label('state', e.from_state) || '·')} → ${esc(label('state', e.to_state))}` : ''}
    <span class="actor">${esc(e.engineer ? engineerName(e.engineer) : e.actor)}</span>
    ${e.detail ? `<div class="note">${esc(e.detail)}</div>` : ''}</li>`).join('')}</ol>`;
}

/** Parts with their depot, status, expected and actual arrival; a part
 *  still awaited gets an "arrived" button (`data-arrived`) for the page to wire. */
export function partsTable(parts, depots = []) {
  if (!parts?.length) return `<p>${esc(t('parts.none'))}</p>`;
  const depot = (id) => depots.find((d) => d.id === id)?.name ?? id ?? '—';
  const arrival = (p) => (p.arrived_at ? esc(when(p.arrived_at))
    : ['reserved', 'requested'].includes(p.status) ? `<button data-arrived="${esc(p.part)}">${esc(t('parts.mark_arrived'))}</button>` : '—');
  return `<table class="parts"><thead><tr><th>${esc(t('parts.part'))}</th><th>${esc(t('parts.qty'))}</th><th>${esc(t('parts.status'))}</th>
    <th>${esc(t('parts.depot'))}</th><th>${esc(t('parts.eta'))}</th><th>${esc(t('parts.arrived'))}</th></tr></thead><tbody>
    ${parts.map((p) => `<tr><td>${esc(p.part)}</td><td>${p.qty}</td><td>${esc(label('part_status', p.status))}</td><td>${esc(depot(p.depot_id))}</td>
      <td>${p.eta ? esc(when(p.eta)) : '—'}</td><td>${arrival(p)}</td></tr><tr class="note-row"><td colspan="6" class="note">${esc(p.note)}</td></tr>`).join('')}</tbody></table>`;
}

/** Wires the "arrived" buttons under `root` to record the part's arrival on ticket `id`. */
export function wireArrivals(root, id, done) {
  root.querySelectorAll('button[data-arrived]').forEach((b) => {
    b.onclick = () => api(`/api/v1/tickets/${encodeURIComponent(id)}/parts/${encodeURIComponent(b.dataset.arrived)}/arrived`, {})
      .then(done).catch((e) => notify(e.message, true));
  });
}

/** The service report form: cause, fix, prevention, the reserved parts used, first-time fix. */
export function reportForm(parts) {
  const reserved = (parts ?? []).filter((p) => p.status === 'reserved');
  return `<label>${esc(t('report.cause'))}<textarea name="cause" required maxlength="4000"></textarea></label>
    <label>${esc(t('report.fix'))}<textarea name="fix" required maxlength="4000"></textarea></label>
    <label>${esc(t('report.prevention'))}<textarea name="prevention" maxlength="4000"></textarea></label>
    <fieldset><legend>${esc(t('report.parts_used'))}</legend>
      ${reserved.length ? reserved.map((p, i) => `<label class="inline"><input type="checkbox" name="part" value="${i}" checked> ${esc(p.part)}
        <input type="number" name="qty-${i}" value="${p.qty}" min="1" max="${p.qty}" aria-label="${esc(t('parts.qty'))}"></label>`).join('') : esc(t('parts.none'))}
    </fieldset>
    <label class="inline"><input type="checkbox" name="first_time_fix" checked> ${esc(t('report.first_time_fix'))}</label>`;
}

/** The report's JSON body from the form's data. */
export function reportBody(data, parts) {
  const reserved = (parts ?? []).filter((p) => p.status === 'reserved');
  return {
    cause: data.get('cause'), fix: data.get('fix'), prevention: data.get('prevention') ?? '',
    parts_used: data.getAll('part').map((i) => ({ part: reserved[i].part, qty: Number(data.get(`qty-${i}`)) || reserved[i].qty })),
    first_time_fix: data.get('first_time_fix') === 'on',
    repaired_at: Date.now(),
  };
}

/** The form that attaches a photo (the phone's camera) or a PDF, with a caption. */
export function photoForm() {
  return `<label>${esc(t('photo.file'))}<input type="file" name="file" required accept="image/jpeg,image/png,image/webp,application/pdf" capture="environment"></label>
    <label>${esc(t('photo.caption'))}<input name="caption" maxlength="500"></label>`;
}

/** The form for a note in the ticket's history. */
export function noteForm() {
  return `<label>${esc(t('note.text'))}<textarea name="text" required maxlength="4000"></textarea></label>`;
}

/** The visit window agreed with the customer, when one is booked. */
export function visitLine(x) {
  if (!x.appointment_from) return '';
  return `<p class="visit">${esc(t('visit.booked', { from: when(x.appointment_from), to: when(x.appointment_to, true) }))}</p>`;
}

/** The form that books a visit window (in the viewer's local time). */
export function visitForm() {
  const at = (ms) => { const d = new Date(ms); d.setMinutes(d.getMinutes() - d.getTimezoneOffset(), 0, 0); return d.toISOString().slice(0, 16); };
  const start = Math.ceil(Date.now() / 1_800_000) * 1_800_000 + 3_600_000;
  return `<label>${esc(t('visit.from'))}<input type="datetime-local" name="from" required value="${at(start)}"></label>
    <label>${esc(t('visit.to'))}<input type="datetime-local" name="to" required value="${at(start + 7_200_000)}"></label>
    <label>${esc(t('visit.note'))}<input name="note" maxlength="500"></label>`;
}

/** The booking's JSON body from the form's data. */
export function visitBody(data) {
  return { from: new Date(data.get('from')).getTime(), to: new Date(data.get('to')).getTime(), note: data.get('note') ?? '' };
}
