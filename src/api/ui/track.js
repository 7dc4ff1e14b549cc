// The customer's page, reached by the progress code the ticket carries:
// where the repair stands, when the engineer comes, the quote to accept and
// the follow-up to give. It shows only the customer's view of the ticket.

import { $, esc, t, label, when, num, api, notify, confirmDialog, loadCatalogue, languageSwitch, describe } from './common.js';

const STAGES = ['open', 'assigned', 'accepted', 'en_route', 'on_site', 'resolved', 'closed'];

const codeOf = () => new URLSearchParams(location.search).get('code') ?? '';

async function show(code) {
  const r = await api(`/api/v1/progress/${encodeURIComponent(code)}`, undefined, 'GET', { anonymous: true });
  const reached = STAGES.indexOf(r.state);
  const stamp = (s) => r.history?.filter((h) => h.state === s).pop()?.at;
  const cancelled = r.state === 'cancelled';
  $('repair').innerHTML = `
    <section class="card">
      <h2>${esc(r.asset)} · ${esc(label('state', r.state))}</h2>
      <p class="lead">${esc(describe(r))}</p>
      <p>${esc(t('track.detected', { at: when(r.detected_at) }))}</p>
      ${coming(r)}
    </section>
    <section class="card" aria-labelledby="steps-title"><h2 id="steps-title">${esc(t('track.progress'))}</h2>
      <ol class="stages">${cancelled ? `<li class="done">${esc(label('state', 'cancelled'))}</li>` : STAGES.map((s, i) => `<li class="${i <= reached ? 'done' : ''}${i === reached ? ' current' : ''}" ${i === reached ? 'aria-current="step"' : ''}>
        ${esc(t(`track.stage.${s}`))}${stamp(s) ? ` <time>${esc(when(stamp(s)))}</time>` : ''}</li>`).join('')}</ol>
    </section>
    <section class="card"><h2>${esc(t('track.terms'))}</h2>
      <p>${esc(label('warranty', r.warranty))} · ${esc(label('remedy', r.remedy))}</p>
      ${r.quote ? quote(r) : ''}
    </section>
    ${r.state === 'closed' ? followUp(r) : ''}`;
  $('accept')?.addEventListener('click', async () => {
    if (!await confirmDialog(t('track.accept_confirm', { amount: num(r.quote.total, 2), currency: r.quote.currency }))) return;
    await api(`/api/v1/progress/${encodeURIComponent(code)}/quote/accept`, {}, 'POST', { anonymous: true }).then(() => show(code)).catch((e) => notify(e.message, true));
  });
  $('rate')?.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    await api(`/api/v1/progress/${encodeURIComponent(code)}/follow-up`, { rating: Number(data.get('rating')), comment: data.get('comment') ?? '' }, 'POST', { anonymous: true })
      .then(() => { notify(t('track.thanks')); return show(code); }).catch((err) => notify(err.message, true));
  });
}

function coming(r) {
  if (['resolved', 'closed', 'cancelled'].includes(r.state)) return '';
  const who = r.engineer_first_name ? t('track.engineer_named', { name: r.engineer_first_name }) : t('track.engineer');
  if (!r.engineer_assigned) return `<p>${esc(t('track.finding_engineer'))}</p>`;
  if (r.appointment_from) {
    return `<p class="lead">${esc(t('track.visit', { who, from: when(r.appointment_from), to: when(r.appointment_to, true) }))}</p>`;
  }
  return `<p class="lead">${esc(t('track.coming', { who, by: when(r.on_site_due) }))}</p>`;
}

function quote(r) {
  const lines = r.quote.lines.map((l) => `<tr><td>${esc(l.item)}</td><td>${num(l.qty, 2)}</td><td>${num(l.amount, 2)}</td></tr>`).join('');
  return `<table class="quote"><caption>${esc(t('track.quote'))}</caption><thead><tr><th>${esc(t('track.item'))}</th><th>${esc(t('parts.qty'))}</th><th>${esc(t('track.amount'))}</th></tr></thead>
    <tbody>${lines}</tbody><tfoot><tr><th colspan="2">${esc(t('track.total'))}</th><th>${num(r.quote.total, 2)} ${esc(r.quote.currency)}</th></tr></tfoot></table>
    ${r.quote_accepted_at ? `<p>${esc(t('detail.quote_accepted', { at: when(r.quote_accepted_at) }))}</p>` : `<button id="accept" class="primary">${esc(t('track.accept'))}</button>`}`;
}

function followUp(r) {
  if (r.follow_up) return `<section class="card"><p>${esc(t('track.rated', { rating: r.follow_up.rating }))}</p></section>`;
  return `<section class="card"><form id="rate"><fieldset><legend>${esc(t('track.rate'))}</legend>
    ${[5, 4, 3, 2, 1].map((n) => `<label class="inline"><input type="radio" name="rating" value="${n}" required> ${esc(t(`track.rating.${n}`))}</label>`).join('')}
    </fieldset><label>${esc(t('track.comment'))}<textarea name="comment" maxlength="4000"></textarea></label>
    <button class="primary">${esc(t('track.send'))}</button></form></section>`;
}

async function main() {
  await loadCatalogue();
  languageSwitch($('lang'));
  $('ask').onsubmit = (e) => { e.preventDefault(); location.search = `?code=${encodeURIComponent($('code').value.trim())}`; };
  const code = codeOf();
  if (!code) { $('ask').hidden = false; return; }
  $('repair').hidden = false;
  await show(code).catch((e) => { notify(e.status === 404 ? t('track.unknown') : e.message, true); $('ask').hidden = false; });
}

main();
