// The monthly report for the office: per customer, model or engineer, the
// month's tickets, top faults, repair rate, complaints and every KPI
// against its target; downloadable as CSV and printable.

import { $, esc, t, num, api, session, notify, download, loadCatalogue, languageSwitch, label } from './common.js';

const lastMonth = () => {
  const d = new Date();
  d.setDate(1);
  d.setMonth(d.getMonth() - 1);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
};

const query = () => `month=${encodeURIComponent($('month').value)}&by=${encodeURIComponent($('by').value)}`;

function cell(k) {
  if (!k.total) return '<td class="num">—</td>';
  const rate = k.met / k.total;
  const verdict = k.target == null ? '' : rate >= k.target ? 'ok' : 'risk';
  return `<td class="num ${verdict}">${esc(num(rate * 100, 1))}% <small>${k.met}/${k.total}</small></td>`;
}

async function show() {
  const r = await api(`/api/v1/reports/monthly?${query()}`);
  history.replaceState(null, '', `?${query()}`);
  $('heading').textContent = t('report.heading', { month: r.month, by: t(`report.by_${r.by}`) });
  const kpis = r.items[0]?.kpis ?? [];
  const head = `<thead><tr><th>${esc(t(`report.by_${r.by}`))}</th><th>${esc(t('report.tickets'))}</th><th>${esc(t('report.repairs'))}</th>
    <th>${esc(t('report.top_faults'))}</th><th>${esc(t('report.repair_rate'))}</th><th>${esc(t('report.complaints'))}</th>
    ${kpis.map((k) => `<th>${esc(label('kpi', k.kpi))}${k.target == null ? '' : `<br><small>≥ ${esc(num(k.target * 100, 0))}%</small>`}</th>`).join('')}</tr></thead>`;
  const rows = r.items.map((x) => `<tr><th scope="row">${esc(x.key)}</th><td class="num">${x.tickets}</td><td class="num">${x.repairs}</td>
    <td>${x.top_faults.map(([f, n]) => `${esc(f)} ${n}`).join(', ') || '—'}</td>
    <td class="num">${x.repair_rate == null ? '—' : `${esc(num(x.repair_rate * 100, 1))}%`}</td><td class="num">${x.complaints}</td>
    ${x.kpis.map(cell).join('')}</tr>`).join('');
  $('rows').innerHTML = `${head}<tbody>${rows || `<tr><td colspan="${6 + kpis.length}">${esc(t('report.empty'))}</td></tr>`}</tbody>`;
}

function signedIn() {
  $('signin').hidden = true;
  $('signout').hidden = false;
  $('work').hidden = false;
  return show().catch((e) => notify(e.message, true));
}

function signedOut() {
  $('signin').hidden = false;
  $('signout').hidden = true;
  $('work').hidden = true;
  notify(t('signin.prompt'));
}

async function main() {
  await loadCatalogue();
  languageSwitch($('lang'));
  const params = new URLSearchParams(location.search);
  $('month').value = params.get('month') ?? lastMonth();
  $('by').value = params.get('by') ?? 'customer';
  $('choose').onsubmit = (e) => { e.preventDefault(); show().catch((err) => notify(err.message, true)); };
  $('csv').onclick = () => download(`/api/v1/reports/monthly?${query()}&format=csv`, `upkeep-${$('month').value}-by-${$('by').value}.csv`)
    .catch((e) => notify(e.message, true));
  $('print').onclick = () => window.print();
  session(signedIn, signedOut);
}

main();
