// The people's pages in a real browser (Debian's chromium, driven by
// playwright-core) against a running demo started with --team-share 0 (so
// assignments wait for people): the dispatcher's console (sign-in, board
// order and countdowns, the chart drawn from the detection's values, the
// checks in words, reassigning through the engineer picker, a storm
// acknowledged, the map's markers, CSRF, a customer's call joining the open
// ticket), the engineer's phone view taking a ticket from assignment
// (booking the visit) to report, the customer's page (quote, progress,
// follow-up), both languages with a complete catalogue; screenshots last.
// Usage: node console.mjs BASE_URL USER PASSWORD ADMIN_TOKEN SHOT_DIR
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';

const [base, user, password, adminToken, shots] = process.argv.slice(2);
mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const step = (what) => console.log(`ok: ${what}`);
const admin = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
const errors = [];

async function open(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, locale: 'en-US', ...options });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
  return page;
}

/** The API as the page's own session sees it. */
const inPage = (page, path, body) => page.evaluate(async ([p, b]) => {
  const r = await fetch(p, b ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(b) } : {});
  return { status: r.status, body: await r.json().catch(() => null) };
}, [path, body]);

async function asAdmin(path, body) {
  const r = await fetch(base + path, body ? { method: 'POST', headers: admin, body: JSON.stringify(body) } : { headers: admin });
  return r.json();
}

/** Answers the modal dialog that opens next. */
async function confirm(page) {
  await page.locator('dialog[open] button[value="yes"]').click();
}

async function noMissingStrings(page, where) {
  const missing = await page.evaluate(() => [...window.upkeepMissingStrings]);
  assert.deepEqual(missing, [], `${where}: strings without a translation`);
}

try {
  // ---- the dispatcher's console ----
  const page = await open();
  await page.goto(base);
  await page.waitForFunction(() => document.getElementById('notice').textContent.length > 0);
  assert.match(await page.textContent('#notice'), /Sign in/);
  assert.equal(await page.locator('#work').isHidden(), true);
  step('signed out, the console asks to sign in and shows nothing');

  await page.fill('#user', user);
  await page.fill('#secret', password);
  await page.click('#signin button');
  await page.waitForSelector('#whoami:not(:empty)');
  assert.equal(await page.textContent('#whoami'), `${user} · dispatcher`);
  const [cookie] = (await page.context().cookies()).filter((c) => c.name.endsWith('upkeep_session'));
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', JSON.stringify(cookie));
  step('a password signs in; the session cookie is HttpOnly and SameSite=Strict');

  await page.waitForFunction(() => document.querySelectorAll('tr.row').length >= 3, null, { timeout: 180_000 });
  const order = await page.evaluate(async () => {
    const { boardOrder, urgency, countdown } = await import('/ui/common.js');
    const now = Date.now();
    const tickets = (await (await fetch('/api/v1/tickets?active=true&limit=1000')).json()).items;
    const shown = [...document.querySelectorAll('tr.row')].map((r) => r.dataset.id);
    const byId = new Map(tickets.map((x) => [x.id, x]));
    const cells = [...document.querySelectorAll('td.due')].map((c) => {
      const x = byId.get(c.dataset.id);
      return x && { urgency: c.dataset.urgency, want: urgency(x, now), text: c.textContent, countdown: countdown(x, now) };
    });
    // A deadline 90 s ahead counts down by the second and turns red as it nears.
    const soon = { state: 'assigned', detected_at: now - 600_000, response_due: now + 90_000, on_site_due: now + 3_600_000 };
    const ticking = [countdown(soon, now), countdown(soon, now + 2000), urgency(soon, now), urgency({ ...soon, detected_at: now - 60_000 }, now)];
    // Tickets may arrive between the board's read and this one: compare the ones both saw.
    const both = shown.filter((i) => byId.has(i));
    const expected = [...tickets].filter((x) => both.includes(x.id)).sort((a, b) => boardOrder(a, b, now)).map((x) => x.id);
    return { shown: both, expected, cells: cells.filter(Boolean), ticking };
  });
  assert.deepEqual(order.shown, order.expected, 'the board is in urgency order');
  for (const c of order.cells) {
    assert.equal(c.urgency, c.want);
    assert.ok(c.text.startsWith(c.countdown), `${c.text} / ${c.countdown}`);
  }
  assert.deepEqual(order.ticking, ['response in 1 min 30 s', 'response in 1 min 28 s', 'red', 'ok']);
  step(`the board orders ${order.shown.length} open tickets by urgency; countdowns run and are coloured by time left`);

  await page.selectOption('#f-severity', 'major');
  assert.match(page.url(), /severity=major/);
  await page.reload();
  await page.waitForSelector('#whoami:not(:empty)');
  assert.equal(await page.inputValue('#f-severity'), 'major');
  await page.selectOption('#f-severity', '');
  step('filters stay in the URL across a reload');

  // The chart of the first ticket: its evidence's samples (evidence may
  // grow while the replay runs: the drawn count lies between two reads).
  const samplesOf = (ticket) => {
    const samples = new Map();
    for (const e of ticket.evidence) for (const w of e.body.windows ?? []) {
      const m = samples.get(w.metric) ?? new Set();
      w.samples.forEach(([t]) => m.add(t));
      samples.set(w.metric, m);
    }
    return samples;
  };
  const id = await page.locator('tr.row').first().getAttribute('data-id');
  const before = samplesOf((await inPage(page, `/api/v1/tickets/${id}`)).body);
  // By its id: a live update may reorder the board meanwhile.
  await page.locator(`tr.row[data-id="${id}"]`).click();
  await page.waitForSelector(`#detail h2:has-text("${id}")`);
  await page.waitForSelector('#charts figure');
  const [metric, points] = [...before][0];
  const figure = page.locator(`figure[data-metric="${metric}"]`);
  const drawn = Number(await figure.locator('polyline.readings').getAttribute('data-count'));
  const ticket = (await inPage(page, `/api/v1/tickets/${id}`)).body;
  const after = samplesOf(ticket).get(metric).size;
  assert.ok(points.size <= drawn && drawn <= after, `${points.size} <= ${drawn} <= ${after}`);
  assert.equal(Number(await figure.locator('line.detected').getAttribute('data-at')), ticket.detected_at);
  const rule = JSON.stringify(ticket.rule.when);
  const limit = await figure.locator('line.limit').getAttribute('data-value').catch(() => null);
  if (limit) assert.ok(rule.includes(`:${limit}}`) || rule.includes(`:${limit},`), `${limit} is a limit of the rule`);
  const checks = ticket.evidence.at(-1).body.checks;
  const sentences = await page.locator('#detail .checks li').count();
  assert.ok(ticket.evidence.some((e) => e.body.checks.length === sentences), `${sentences} checks in words`);
  assert.match(await page.locator('#detail .checks').textContent(), / (above|below) /);
  step(`the chart draws ${drawn} ${metric} readings of ${id}, the rule's limit and the detection; ${checks.length} checks in words`);

  // Reassign an unaccepted ticket through the picker.
  const waiting = (await inPage(page, '/api/v1/tickets?active=true&limit=1000')).body.items
    .filter((x) => ['open', 'assigned'].includes(x.state))
    .sort((a, b) => b.response_due - a.response_due)[0];
  assert.ok(waiting, 'a ticket waits for a dispatcher');
  await page.locator(`tr.row[data-id="${waiting.id}"]`).click();
  await page.waitForSelector(`#detail h2:has-text("${waiting.id}")`);
  await page.click('#pick');
  await page.waitForSelector('table.picker button.assign');
  const choice = page.locator('table.picker button.assign').first();
  const engineer = await choice.getAttribute('data-engineer');
  assert.notEqual(engineer, waiting.engineer_id ?? '', 'the picker offers someone else');
  await choice.click();
  await confirm(page);
  await page.waitForFunction((e) => document.querySelector('#detail')?.textContent.includes(`(${e})`), engineer);
  const moved = (await inPage(page, `/api/v1/tickets/${waiting.id}`)).body;
  assert.equal(moved.engineer_id, engineer);
  assert.ok(moved.events.some((e) => e.kind === 'reassigned' && e.actor === user), 'the reassignment is the dispatcher\'s');
  step(`${waiting.id} reassigned to ${engineer} from the picker (arrival, skills, load), with confirmation`);

  // A storm: acknowledge two tickets at once.
  const picks = page.locator('input.pick');
  await picks.nth(0).check();
  await picks.nth(1).check();
  await page.click('#ack');
  await confirm(page);
  await page.waitForFunction(() => /acknowledged/.test(document.getElementById('notice').textContent));
  await page.waitForFunction(() => document.querySelectorAll('#rows .ack').length >= 2);
  const reordered = await page.evaluate(async () => {
    const { boardOrder } = await import('/ui/common.js');
    const tickets = (await (await fetch('/api/v1/tickets?active=true&limit=1000')).json()).items;
    const byId = new Map(tickets.map((x) => [x.id, x]));
    const shown = [...document.querySelectorAll('tr.row')].map((r) => r.dataset.id).filter((i) => byId.has(i));
    return [shown, shown.map((i) => byId.get(i)).sort((a, b) => boardOrder(a, b)).map((x) => x.id)];
  });
  assert.deepEqual(reordered[0], reordered[1], 'acknowledged tickets give way on the board');
  step('two tickets acknowledged at once, marked, and the board re-ordered');

  // The map.
  await page.click('#tab-map');
  await page.waitForSelector('svg.map');
  const assets = (await inPage(page, '/api/v1/assets?limit=1000')).body.items.length;
  const engineers = (await inPage(page, '/api/v1/engineers?limit=1000')).body.items.length;
  assert.equal(await page.locator('svg.map [data-kind="asset"]').count(), assets);
  assert.equal(await page.locator('svg.map [data-kind="engineer"]').count(), engineers);
  assert.ok(await page.locator('svg.map [data-kind="depot"]').count() > 0);
  assert.equal(await page.locator('svg.map .asset.selected').getAttribute('data-id'), waiting.asset_id);
  assert.equal(await page.locator('svg.map [data-kind="route"]').count(), 1, 'the route to the selected ticket');
  assert.ok(await page.locator('svg.map .asset.sev-major, svg.map .asset.sev-emergency, svg.map .asset.sev-general').count() > 0);
  await page.screenshot({ path: `${shots}/console-map.png` });
  await page.click('#tab-timeline');
  step(`the map shows ${assets} assets, ${engineers} engineers, depots and the selected ticket's route`);

  const forged = await page.evaluate(async () => (await fetch('/api/v1/replan', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status);
  assert.equal(forged, 403);
  step('a write with the cookie but without the CSRF token is refused (403)');

  // A customer calls about a unit whose ticket is open: the call joins it.
  await page.click('#call');
  await page.selectOption('dialog[open] select[name="asset"]', waiting.asset_id);
  await page.selectOption('dialog[open] select[name="fault"]', waiting.fault_code);
  await page.fill('dialog[open] textarea[name="symptom"]', 'loud grinding since this morning');
  await page.fill('dialog[open] input[name="contact"]', 'Ms Weber, +49 30 5555 0101');
  await confirm(page);
  await page.waitForFunction((i) => document.getElementById('notice').textContent.includes(i), waiting.id);
  const called = (await inPage(page, `/api/v1/tickets/${waiting.id}`)).body;
  const call = called.events.find((e) => e.kind === 'customer_reported');
  assert.ok(call && call.detail.includes('loud grinding'), 'the call is in the ticket\'s history');
  step(`a customer's call recorded in the console joined the open ticket ${waiting.id}`);
  await page.locator(`tr.row[data-id="${waiting.id}"]`).click();
  await page.waitForSelector('#charts figure');
  await page.screenshot({ path: `${shots}/console.png` });
  await noMissingStrings(page, 'console');

  // ---- the engineer's phone ----
  const issued = await asAdmin('/api/v1/tokens', { name: `browser ${engineer}`, role: 'engineer', engineer_id: engineer });
  const phone = await open({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
    geolocation: { latitude: 48.137, longitude: 11.575 }, permissions: ['geolocation'] });
  await phone.goto(`${base}/field`);
  await phone.fill('#secret', issued.token);
  await phone.click('#signin button');
  const card = phone.locator(`li.job[data-id="${waiting.id}"]`);
  await card.waitFor();
  await phone.screenshot({ path: `${shots}/field.png`, fullPage: true });
  if (moved.quote && !moved.quote_accepted_at) {
    const track = await open({ viewport: { width: 390, height: 844 } });
    await track.goto(`${base}/track?code=${moved.progress_code}`);
    await track.click('#accept');
    await confirm(track);
    await track.waitForSelector('text=accepted');
    await track.close();
    step('the customer accepted the quote on their page');
  }
  for (const [button, state] of [['Accept', 'accepted'], ['On my way', 'en route'], ['Arrived on site', 'on site']]) {
    await card.locator(`button:has-text("${button}")`).click();
    await confirm(phone);
    await phone.waitForSelector(`li.job[data-id="${waiting.id}"] h3:has-text("${state}")`);
    if (state === 'accepted') {
      // The visit window agreed with the customer, booked from the phone.
      await card.locator('button:has-text("Book the visit")').click();
      await confirm(phone);
      await phone.waitForSelector(`li.job[data-id="${waiting.id}"] p.visit`);
      const booked = (await inPage(page, `/api/v1/tickets/${waiting.id}`)).body;
      assert.ok(booked.appointment_to - booked.appointment_from === 7_200_000, 'a two-hour window');
      // A photo from the phone's camera (a 1x1 PNG here), with a caption.
      await card.locator('button:has-text("Add a photo")').click();
      const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
      await phone.setInputFiles('dialog[open] input[name="file"]', { name: 'seal.png', mimeType: 'image/png', buffer: png });
      await phone.fill('dialog[open] input[name="caption"]', 'seal before the repair');
      await confirm(phone);
      await phone.waitForFunction((i) => document.getElementById('notice').textContent.includes(`${i} updated`), waiting.id);
      const files = (await inPage(page, `/api/v1/tickets/${waiting.id}/attachments`)).body;
      assert.equal(files[0]?.caption, 'seal before the repair', 'the photo is on the ticket');
    }
  }
  await card.locator('button:has-text("File the service report")').click();
  await phone.fill('dialog[open] textarea[name="cause"]', 'worn bearing on the drive end');
  await phone.fill('dialog[open] textarea[name="fix"]', 'bearing and seal replaced');
  await phone.fill('dialog[open] textarea[name="prevention"]', 'grease every month');
  await confirm(phone);
  await phone.waitForSelector(`li.job[data-id="${waiting.id}"]`, { state: 'detached' });
  const resolved = (await inPage(page, `/api/v1/tickets/${waiting.id}`)).body;
  assert.equal(resolved.state, 'resolved');
  assert.equal(resolved.service_report.cause, 'worn bearing on the drive end');
  assert.ok(resolved.service_report.parts_used.length > 0 || !resolved.parts.some((p) => p.status === 'reserved'));
  await phone.click('#locate');
  await phone.waitForFunction(() => /Position sent/.test(document.getElementById('notice').textContent));
  const wide = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(wide <= 390, `the phone page fits 390 px (${wide})`);
  await noMissingStrings(phone, 'field');
  step(`on a 390 px phone, ${engineer} accepted, booked the visit, added a photo, set off, arrived and filed the report; position reported`);

  // The dispatcher closes it from the console.
  await page.locator('#f-state').selectOption('resolved');
  await page.locator(`tr.row[data-id="${waiting.id}"]`).click();
  await page.waitForSelector('#detail [data-to="closed"]');
  await page.click('#detail [data-to="closed"]');
  await confirm(page);
  await page.waitForFunction(async (i) => (await (await fetch(`/api/v1/tickets/${i}`)).json()).state === 'closed', waiting.id);
  step('the dispatcher closed it');

  // The monthly report of this month, by model, in the same session.
  const month = new Date().toISOString().slice(0, 7);
  const report = await page.context().newPage();
  report.on('pageerror', (e) => errors.push(`${report.url()}: ${e.message}`));
  await report.goto(`${base}/report?month=${month}&by=model`);
  await report.waitForSelector('#rows tbody tr th[scope="row"]');
  const models = await report.locator('#rows tbody tr').count();
  const api = (await inPage(report, `/api/v1/reports/monthly?month=${month}&by=model`)).body;
  assert.equal(models, api.items.length, 'one row per model with tickets');
  await report.screenshot({ path: `${shots}/report.png`, fullPage: true });
  await noMissingStrings(report, 'report');
  await report.close();
  step(`the monthly report shows ${models} models with their KPIs against targets`);

  // ---- the customer's page ----
  const customer = await open({ viewport: { width: 390, height: 844 }, locale: 'zh-CN' });
  await customer.goto(`${base}/track?code=${moved.progress_code}`);
  await customer.waitForSelector('ol.stages li.current');
  assert.match(await customer.textContent('#repair .lead'), /[\u4e00-\u9fff]/, 'the fault in Chinese');
  assert.match(await customer.textContent('ol.stages li.current'), /^\s*已完成/, 'the last stage is current');
  assert.match(await customer.textContent('h1'), /维修/);
  await customer.check('input[name="rating"][value="5"]');
  await customer.fill('textarea[name="comment"]', '很快，谢谢');
  await customer.click('#rate button');
  await customer.waitForSelector('text=谢谢');
  const rated = (await inPage(page, `/api/v1/tickets/${waiting.id}`)).body;
  assert.equal(rated.follow_up.rating, 5);
  assert.equal(rated.follow_up.recorded_by, 'customer (progress code)');
  const internal = await customer.textContent('body');
  assert.ok(!internal.includes(engineer) && !internal.includes('assignment'), 'nothing internal on the customer page');
  await customer.screenshot({ path: `${shots}/track.png`, fullPage: true });
  await noMissingStrings(customer, 'track (zh-CN)');
  step('the customer followed the repair in Chinese by its code and rated it; nothing internal shown');

  // ---- the console in Chinese ----
  const zh = await open({ locale: 'zh-CN' });
  await zh.goto(base);
  await zh.fill('#user', user);
  await zh.fill('#secret', password);
  await zh.click('#signin button');
  await zh.waitForSelector('tr.row');
  assert.equal(await zh.textContent('h1'), 'upkeep 派工台');
  await zh.locator('tr.row').first().click();
  await zh.waitForSelector('#charts figure');
  assert.match(await zh.textContent('#detail'), /检测结果/);
  await noMissingStrings(zh, 'console (zh-CN)');
  await zh.screenshot({ path: `${shots}/console-zh-CN.png` });
  await zh.selectOption('#lang', 'en');
  await zh.waitForFunction(() => document.documentElement.lang === 'en');
  step('the console speaks Chinese for a zh-CN browser, every string translated, and switches to English');

  await page.click('#signout');
  await page.waitForSelector('#signin', { state: 'visible' });
  assert.equal((await inPage(page, '/api/v1/tickets')).status, 401);
  step('signing out ends the session (401 afterwards)');
  assert.deepEqual(errors, [], 'no script errors on any page');
} finally {
  await browser.close();
}
