// The dispatcher console in a real browser (Debian's chromium, driven by
// playwright-core) against a running demo: signing in by password and by
// token, the session cookie's flags, the board, a ticket, a write that
// carries the CSRF token, one that does not, a reload, signing out.
// Usage: node console.mjs BASE_URL USER PASSWORD TOKEN [SCREENSHOT]
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';

const [base, user, password, token, shot] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
const page = await browser.newPage();
page.setDefaultTimeout(30_000);
const step = (what) => console.log(`ok: ${what}`);

try {
  await page.goto(base);
  assert.match(await page.textContent('#detail'), /Sign in/);
  assert.equal(await page.locator('tr.row').count(), 0);
  step('signed out, the console asks to sign in and shows nothing');

  await page.fill('#user', user);
  await page.fill('#secret', password);
  await page.click('#signin button');
  await page.waitForSelector('#whoami:not(:empty)');
  assert.equal(await page.textContent('#whoami'), `${user} (dispatcher)`);
  const [cookie] = (await page.context().cookies()).filter((c) => c.name.endsWith('upkeep_session'));
  assert.ok(cookie && cookie.httpOnly && cookie.sameSite === 'Strict', JSON.stringify(cookie));
  step('a password signs in; the session cookie is HttpOnly and SameSite=Strict');

  await page.selectOption('#state', '');
  await page.waitForSelector('tr.row', { timeout: 120_000 });
  await page.locator('tr.row').first().click();
  await page.waitForSelector('#detail h2');
  assert.match(await page.textContent('#detail h2'), /^TK-/);
  step(`the board lists ${await page.locator('tr.row').count()} tickets and one opens`);

  await page.click('#replan');
  await page.waitForFunction(() => document.getElementById('error').textContent.startsWith('re-planned'));
  step('a write from the console carries the CSRF token');

  const forged = await page.evaluate(async () => {
    const r = await fetch('/api/v1/replan', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    return r.status;
  });
  assert.equal(forged, 403);
  step('the same write with the cookie but without the token is refused (403)');

  await page.reload();
  await page.waitForSelector('#whoami:not(:empty)');
  await page.click('#replan');
  await page.waitForFunction(() => document.getElementById('error').textContent.startsWith('re-planned'));
  step('after a reload the session and its token are found again');

  await page.click('#signout');
  await page.waitForSelector('#signin', { state: 'visible' });
  assert.equal(await page.locator('tr.row').count(), 0);
  const after = await page.evaluate(async () => (await fetch('/api/v1/tickets')).status);
  assert.equal(after, 401);
  step('signing out ends the session (401 afterwards)');

  await page.fill('#user', '');
  await page.fill('#secret', token);
  await page.click('#signin button');
  await page.waitForSelector('#whoami:not(:empty)');
  assert.match(await page.textContent('#whoami'), /\(dispatcher\)$/);
  assert.equal(await page.textContent('#detail'), 'Select a ticket.');
  step('an API token signs in too');
  if (shot) await page.screenshot({ path: shot, fullPage: true });
} finally {
  await browser.close();
}
