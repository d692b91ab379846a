// ui.mjs: the web UI's workflow in Debian's chromium, driven by
// playwright-core (never a downloaded browser).  Run by tests/cli/web_ui.sh:
//
//   node test/ui.mjs URL DIR SHOTS CLI_ID CLI_MARK PASSPHRASE
//
// On harness.mjs: its launch, its watch on every request (secrets and
// sealed plaintexts), axe and screenshots; the logins are this file's own
// (pk.mofa's key file is passphrase-protected, and the inbox's weight is
// measured from the first one).
// DIR holds pk.mofa.key, in.mea.key, fr.anssi.key (from `comity keygen`);
// the ids of the records the browsers made go to DIR/ids.json for the
// CLI's interop checks; screenshots of every screen go to SHOTS.  Prints
// "ok ..." / "FAIL ..." lines; exits 1 if any check failed.
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { harness, keySecrets } from './harness.mjs';

const [url, dir, shots, cliId, cliMark, passphrase] = process.argv.slice(2);

// ---- what must never leave the browser ----------------------------------
// each party's key (harness.mjs's keySecrets), the markers of a key file,
// and the plaintext of every sealed text of the test
const keys = {};
const secrets = ['AGE-SECRET-KEY', 'PRIVATE+KEY'];
for (const p of ['pk.mofa', 'in.mea', 'fr.anssi']) {
  keys[p] = `${dir}/${p}.key`;
  secrets.push(...keySecrets(keys[p]));
}
for (const x of secrets) if (x.length < 10) throw new Error('a secret to watch for is too short to mean anything');
const MARK = `sealed-asked-${Date.now()}-${Math.random().toString(36).slice(2)}`;
const REPLY_MARK = `sealed-answer-${Date.now()}`;
const CASE_MARK = `sealed-subject-${Date.now()}`;
const CASE_SUMMARY = `sealed-summary-${Math.random().toString(36).slice(2)}`;
const OFFENCE = `sealed-offence-${Math.random().toString(36).slice(2)}`;
const plaintexts = [MARK, REPLY_MARK, cliMark, passphrase, CASE_MARK, CASE_SUMMARY, OFFENCE];
const h = harness({ url, shots, secrets: [...secrets, ...plaintexts] });
const { ok, bad, check, axe, shot, heading } = h;

// Nothing wider than the viewport: the page never scrolls sideways.
async function noOverflow(page, name) {
  const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  check(`${name}: nothing overflows horizontally (${sw} <= ${cw})`, sw <= cw);
}

async function login(ctx, party, name) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(15000);
  h.watch(page, party);
  // the scripts and style sheets this page loads, in order
  page.assets = [];
  page.on('response', (r) => { if (/\.(js|css)$/.test(new URL(r.url()).pathname)) page.assets.push(r); });
  page.on('pageerror', (e) => bad(`${party}: page error ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 40[134]|Content Security Policy/.test(m.text()))
      bad(`${party}: console error ${m.text()}`);
  });
  await page.goto(`${url}/`);
  await heading(page, 'Log in');
  if (name) { await axe(page, 'login'); await shot(page, 'login'); }
  if (party === 'pk.mofa') {
    // pk.mofa's key file is protected with a passphrase (age -p)
    await page.setInputFiles('#keyfile', `${keys[party]}.age`);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'protected' }).waitFor();
    await page.getByLabel('Passphrase (only for a protected key file)').fill('not the passphrase');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('alert').filter({ hasText: 'wrong passphrase' }).waitFor();
    ok('a protected key file needs its passphrase');
    await axe(page, 'login with an error');
    await page.getByLabel('Passphrase (only for a protected key file)').fill(passphrase);
    await page.getByRole('button', { name: 'Log in' }).click();
    await heading(page, 'Inbox');
    ok(`${party} logged in with its passphrase-protected key file`);
    // what the inbox screen loads: every script and style sheet so far,
    // compressed as a server would (gzip -9); the charts are not among them
    let raw = 0, gz = 0;
    const names = [];
    for (const r of page.assets) {
      const b = await r.body();
      raw += b.length; gz += gzipSync(b, { level: 9 }).length;
      names.push(new URL(r.url()).pathname.slice(1));
    }
    console.log(`# inbox loads ${names.join(' ')}: ${raw} bytes, ${gz} gzip -9 (${(gz / 1024).toFixed(1)} KB; target <= 300 KB)`);
    check('the inbox loads at most 300 KB of compressed JS and CSS', gz <= 300 * 1024, `${gz}`);
    check('the inbox does not load the charts (uPlot)', !names.some((n) => /^pings-/.test(n)), names.join());
    return page;
  }
  await page.setInputFiles('#keyfile', keys[party]);
  await page.getByRole('button', { name: 'Log in' }).click();
  await heading(page, 'Inbox');
  ok(`${party} logged in with its key file`);
  return page;
}

// Tabs until the focused element matches `pred` (at most n presses).
async function tabTo(page, pred, arg, n = 40) {
  for (let i = 0; i < n; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(pred, arg)) return true;
  }
  return false;
}

const browser = await h.launch();
const ids = { mark: MARK };
try {
  const ctxA = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const ctxB = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const ctxC = await browser.newContext({ viewport: { width: 390, height: 844 } });

  // ---- A: log in, the cookie's flags, compose a sealed request ----------
  const a = await login(ctxA, 'pk.mofa', true);
  const cookies = await ctxA.cookies();
  const c = cookies.find((k) => k.name === 'comity_session');
  check('session cookie is HttpOnly and SameSite=Strict', c && c.httpOnly && c.sameSite === 'Strict', JSON.stringify(c));
  check('the page cannot read the cookie', !(await a.evaluate(() => document.cookie.includes('comity_session'))));
  await axe(a, 'inbox');
  await shot(a, 'inbox-empty');

  // the Content-Security-Policy in force: no inline script, no eval
  let inline = 'ran';
  try { await a.addScriptTag({ content: 'window.__inline = 1' }); } catch { inline = 'refused'; }
  if (await a.evaluate(() => window.__inline === 1)) inline = 'ran';
  check('CSP: an inline script is refused', inline === 'refused');
  // (eval: the policy has no 'unsafe-eval', which web_ui.sh checks; code
  // evaluated through the DevTools protocol is exempt, so it is not tried
  // here; the bundle uses neither eval nor new Function, also checked there)

  // CSRF: a state-changing request without the token is refused
  const csrf = await a.evaluate(async () => (await fetch('/v1/records', { method: 'POST', body: '{}' })).status);
  check('POST without the CSRF token is refused (401)', csrf === 401, `got ${csrf}`);

  await a.getByRole('link', { name: 'New request' }).click();
  await heading(a, 'New request');
  await a.getByRole('button', { name: 'Sign and send' }).click();
  const invalid = await a.locator('[aria-invalid="true"]').count();
  check('empty request: errors next to the fields, before any signing', invalid >= 3, `got ${invalid}`);
  check('the first invalid field has focus', await a.evaluate(() => document.activeElement.getAttribute('aria-invalid') === 'true'));
  await axe(a, 'compose with errors');
  await shot(a, 'compose-request-errors');
  await a.getByLabel('To (states or parties, comma-separated)').fill('in.mea');
  await a.getByLabel('Sharing (TLP)').selectOption('amber');
  await a.getByLabel('Kind').selectOption('assistance');
  await a.getByLabel('Norm').selectOption('13h');
  await a.getByLabel('What is asked').fill(MARK);
  await a.getByLabel('Severity (optional)').selectOption('4');
  await a.getByLabel('Sector (optional)').selectOption('energy');
  await shot(a, 'compose-request');
  await a.getByRole('button', { name: 'Sign and send' }).click();
  await heading(a, /^request /);
  ids.request = decodeURIComponent(new URL(a.url()).hash.replace('#/message/', ''));
  check('the request was sent and shown', ids.request.startsWith('request--'), ids.request);
  check('the author sees its sealed text (opened in its browser)', (await a.textContent('main')).includes(MARK));
  await axe(a, 'message (author)');
  await shot(a, 'message-sent');

  // the sealed request's severity and sector: the node has neither; the
  // browser that opened it fills them in (sessionStorage, never sent)
  await a.getByRole('link', { name: 'Inbox' }).click();
  await heading(a, 'Inbox');
  const reqRow = a.locator('tr', { has: a.locator(`a[href="#/message/${ids.request}"]`) });
  await reqRow.waitFor();
  const rowText = await reqRow.textContent();
  check('inbox: the sealed request shows its opened severity and sector, marked sealed',
    /4 \(sealed\)/.test(rowText) && /energy \(sealed\)/.test(rowText), rowText);
  check('the opened fields stay in this tab (sessionStorage)',
    await a.evaluate((id) => JSON.parse(sessionStorage.getItem('comity.sealed'))[id].severity === 4, ids.request));
  await a.getByLabel('Severity', { exact: true }).selectOption('5');
  await reqRow.waitFor({ state: 'detached' });
  await a.getByLabel('Severity', { exact: true }).selectOption('4');
  await reqRow.waitFor();
  ok('inbox: the severity filter uses the opened severity');

  // the notification composer: STIX indicators from a file
  await a.getByRole('link', { name: 'New notification' }).click();
  await heading(a, 'New notification');
  await axe(a, 'compose notification');
  await shot(a, 'compose-notification');
  await a.getByLabel('To (states or parties, comma-separated)').fill('in.mea');
  await a.getByLabel('Severity (1-5)').selectOption('2');
  await a.getByLabel('Sector', { exact: true }).selectOption('finance');
  await a.getByLabel('Summary').fill('phishing indicators attached');
  const stixField = 'STIX indicators (optional, a STIX 2.1 bundle file)';
  await a.getByLabel(stixField).setInputFiles({ name: 'bad.json', mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ type: 'bundle', id: 'bundle--not-a-uuid', objects: [] })) });
  await a.getByRole('button', { name: 'Sign and send' }).click();
  await a.locator('#indicators-err').waitFor();
  check('a bundle of the wrong shape is refused next to its field',
    (await a.textContent('#indicators-err')).includes('bundle--<uuid>'));
  const ind = `indicator--${crypto.randomUUID()}`;
  const bundle = { type: 'bundle', id: `bundle--${crypto.randomUUID()}`, objects: [{
    type: 'indicator', spec_version: '2.1', id: ind, created: '2026-12-01T00:00:00.000Z',
    modified: '2026-12-01T00:00:00.000Z', pattern: "[domain-name:value = 'evil.example']",
    pattern_type: 'stix', valid_from: '2026-12-01T00:00:00Z' }] };
  await a.getByLabel(stixField).setInputFiles({ name: 'bundle.json', mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify(bundle)) });
  await a.getByRole('button', { name: 'Sign and send' }).click();
  await heading(a, /^notification /);
  ids.stix = decodeURIComponent(new URL(a.url()).hash.replace('#/message/', ''));
  ids.indicator = ind;
  check('the notification with STIX indicators was sent, sealed, and opens with them',
    (await a.locator('dd', { hasText: ind }).count()) === 1);

  // a record the CLI sealed to pk.mofa opens in the browser
  await a.goto(`${url}/#/message/${cliId}`);
  await a.locator('dd', { hasText: cliMark }).waitFor({ timeout: 15000 });
  ok('a CLI-sealed record opens in the browser');

  // the directory and the log, checked in the browser
  await a.getByRole('link', { name: 'Directory' }).click();
  await heading(a, 'Directory');
  await a.locator('[aria-label="Points of contact"] td', { hasText: 'Ministry of External Affairs' }).waitFor();
  ok('the directory shows in.mea\'s contact');
  await axe(a, 'directory');
  await shot(a, 'directory');
  await a.getByRole('link', { name: 'Log' }).click();
  await heading(a, 'Log');
  await a.locator('dd', { hasText: 'signature verified in this browser' }).waitFor();
  ok('the log screen checks the checkpoint signature');
  await axe(a, 'log');
  await shot(a, 'log');

  // ---- B: keyboard only from the inbox: open, acknowledge, reply --------
  const b = await login(ctxB, 'in.mea', false);
  await b.locator('#awaiting-me').waitFor();
  await axe(b, 'inbox (awaiting you)');
  await shot(b, 'inbox');
  // filters: a type with nothing to show, then back
  // (applied on the node: the page asks for them)
  const byType = b.waitForRequest((r) => /\/v1\/framework\/inbox\?limit=50&type=ping$/.test(r.url()));
  await b.getByLabel('Type').selectOption('ping');
  await byType;
  await b.locator('p', { hasText: 'Nothing matches the filters.' }).nth(1).waitFor();
  ok('inbox: the type filter is applied on the node');
  await b.getByLabel('Type').selectOption('');
  await b.locator(`a[href="#/message/${ids.request}"]`).waitFor();
  const bySearch = b.waitForRequest((r) => /\/v1\/framework\/inbox\?limit=50&q=zz-none$/.test(r.url()));
  await b.getByLabel('Search (id, from, to)').fill('zz-none');
  await bySearch;
  await b.locator(`a[href="#/message/${ids.request}"]`).waitFor({ state: 'detached' });
  await b.getByLabel('Search (id, from, to)').fill('pk.mofa');
  await b.locator(`a[href="#/message/${ids.request}"]`).waitFor();
  ok('inbox search, on the node: nothing for zz-none, the request for pk.mofa');
  await b.getByLabel('Search (id, from, to)').fill('');
  await b.locator('#awaiting-me').waitFor();
  const reached = await tabTo(b, (id) => document.activeElement.getAttribute('href') === `#/message/${id}`, ids.request);
  check('keyboard: Tab reaches the request in the inbox', reached);
  await b.keyboard.press('Enter');
  await heading(b, /^request /);
  await b.locator('dd', { hasText: MARK }).waitFor({ timeout: 15000 });
  ok('the recipient opens the sealed request in its browser');
  await axe(b, 'message (recipient)');
  await shot(b, 'message-received');
  check('keyboard: Tab reaches Acknowledge',
    await tabTo(b, () => document.activeElement.textContent === 'Acknowledge'));
  await b.keyboard.press('Enter');
  await b.getByRole('status').filter({ hasText: 'Sent ack' }).waitFor({ timeout: 15000 });
  ok('acknowledged');
  await b.locator('ol.thread h3', { hasText: 'ack' }).waitFor({ timeout: 15000 });
  await b.getByRole('textbox', { name: 'Answer' }).focus();
  await b.keyboard.type(REPLY_MARK);
  await b.keyboard.press('Tab');
  await b.keyboard.press('Enter');
  await b.getByRole('status').filter({ hasText: 'Sent reply' }).waitFor({ timeout: 15000 });
  ok('replied');
  await b.locator('ol.thread h3', { hasText: 'reply' }).waitFor({ timeout: 15000 });
  await axe(b, 'message with thread');
  await shot(b, 'message-thread');
  // the dark theme follows the system: the same screen, axe-clean too
  await b.emulateMedia({ colorScheme: 'dark' });
  const bg = await b.evaluate(() => getComputedStyle(document.body).backgroundColor);
  check('dark theme follows the system', bg === 'rgb(21, 24, 28)', bg);
  await axe(b, 'message with thread (dark)');
  await shot(b, 'message-thread-dark');
  await b.emulateMedia({ colorScheme: 'light' });

  // ---- C: a third state sees nothing ------------------------------------
  const cpage = await login(ctxC, 'fr.anssi', false);
  await shot(cpage, 'inbox-phone');
  await noOverflow(cpage, 'inbox at 390x844');
  // Arabic: right to left, translated, still accessible; then French
  await cpage.locator('#lang').selectOption('ar');
  await heading(cpage, 'صندوق الوارد');
  check('Arabic: <html dir="rtl" lang="ar">', await cpage.evaluate(() =>
    document.documentElement.dir === 'rtl' && document.documentElement.lang === 'ar'));
  check('Arabic: translated labels', (await cpage.textContent('label[for="f-type"]')) === 'النوع' &&
    (await cpage.getByRole('link', { name: 'طلب جديد' }).count()) === 1);
  await axe(cpage, 'inbox (Arabic)');
  await noOverflow(cpage, 'Arabic inbox at 390x844');
  await shot(cpage, 'inbox-ar-phone');
  await cpage.getByRole('link', { name: 'إخطار جديد' }).click();
  await heading(cpage, 'إخطار جديد');
  await axe(cpage, 'compose notification (Arabic)');
  await shot(cpage, 'compose-ar-phone');
  // validate.js's messages in Arabic, next to their fields
  await cpage.getByRole('button', { name: 'توقيع وإرسال' }).click();
  await cpage.locator('#severity-err').waitFor();
  check('Arabic: the browser\'s own checks speak Arabic', (await cpage.textContent('#severity-err')) === 'من 1 إلى 5' &&
    (await cpage.textContent('#summary-err')) === 'مطلوب', await cpage.textContent('#severity-err'));
  await shot(cpage, 'compose-ar-errors-phone');
  // the directory and the log in Arabic
  await cpage.getByRole('link', { name: 'الدليل' }).click();
  await heading(cpage, 'الدليل');
  await cpage.locator('h2', { hasText: 'سجل التغييرات' }).waitFor();
  await axe(cpage, 'directory (Arabic)');
  await noOverflow(cpage, 'Arabic directory at 390x844');
  await shot(cpage, 'directory-ar-phone');
  await cpage.getByRole('link', { name: 'السجل' }).click();
  await heading(cpage, 'السجل');
  await axe(cpage, 'log (Arabic)');
  await cpage.getByRole('link', { name: 'إخطار جديد' }).click();
  await heading(cpage, 'إخطار جديد');
  await cpage.locator('#lang').selectOption('fr');
  await heading(cpage, 'Nouvelle notification');
  check('French: <html lang="fr" dir="ltr">', await cpage.evaluate(() =>
    document.documentElement.dir === 'ltr' && document.documentElement.lang === 'fr'));
  await axe(cpage, 'compose notification (French)');
  await cpage.getByRole('link', { name: 'Boîte de réception' }).click();
  await heading(cpage, 'Boîte de réception');
  await axe(cpage, 'inbox (French)');
  const again = await ctxC.newPage();
  await again.goto(`${url}/`);
  await heading(again, 'Connexion');
  check('the language choice is remembered, the login screen in French', await again.evaluate(() => document.documentElement.lang) === 'fr' &&
    (await again.textContent('label[for="keyfile"]')) === 'Fichier de clé');
  await axe(again, 'login (French)');
  await shot(again, 'login-fr-phone');
  await again.close();
  await cpage.locator('#lang').selectOption('en');
  await heading(cpage, 'Inbox');
  await cpage.goto(`${url}/#/message/${ids.request}`);
  await cpage.getByRole('alert').waitFor({ timeout: 15000 });
  check('a third party gets no message', !(await cpage.textContent('body')).includes(MARK));
  const st = await cpage.evaluate(async (id) => (await fetch(`/v1/records/${id}`)).status, ids.request);
  check('a third party cannot fetch the record (404)', st === 404, `got ${st}`);

  // ---- the directory: fr.anssi nominates, then withdraws, its contact
  await cpage.getByRole('link', { name: 'Directory' }).click();
  await heading(cpage, 'Directory');
  await cpage.getByLabel('Contact kind').selectOption('technical');
  await cpage.getByLabel('Organisation').fill('ANSSI CERT-FR');
  await cpage.getByLabel('Channels, one a line (type:value)').fill('email:not an address\nphone:+33 1 71 75 84 68');
  await cpage.getByLabel('Time zone').fill('Europe/Paris');
  await cpage.getByLabel('Languages').fill('fr, en');
  await cpage.getByLabel('Valid until (optional)').fill('2020-01-01T00:00:00Z');
  await cpage.getByRole('button', { name: 'Sign and publish' }).click();
  await cpage.locator('#channels-err').waitFor();
  ok('a bad channel is refused next to its field');
  check('a valid_until before valid_from (now) is refused next to its field',
    (await cpage.locator('#valid_until-err').textContent()).includes('later than valid from'));
  await axe(cpage, 'directory form with an error');
  await cpage.getByLabel('Channels, one a line (type:value)').fill('email:cert-fr@example.fr\nphone:+33 1 71 75 84 68');
  await cpage.getByLabel('Valid until (optional)').fill('2099-01-01T00:00:00Z');
  await cpage.getByRole('button', { name: 'Sign and publish' }).click();
  await cpage.locator('[aria-label="Points of contact"] td', { hasText: 'ANSSI CERT-FR' }).waitFor();
  ok('fr.anssi nominated its technical contact');
  const until = await cpage.evaluate(async () => {
    const d = await (await fetch('/v1/directory', { headers: { 'X-Comity-UI': '1' } })).json();
    const e = d.entries.find((x) => x.state === 'fr' && x.kind === 'technical');
    return e && e.current && e.current.body.valid_until;
  });
  check('the published contact is valid until the time given', until === '2099-01-01T00:00:00Z', String(until));
  await shot(cpage, 'directory-phone');
  check('no withdraw button for another state', await cpage.getByRole('button', { name: 'Withdraw the diplomatic contact of in' }).count() === 0);
  await cpage.getByRole('button', { name: 'Withdraw the technical contact of fr' }).click();
  await cpage.getByRole('status').filter({ hasText: 'Withdrew the technical contact of fr' }).waitFor();
  await cpage.locator('[aria-label="Points of contact"] td', { hasText: 'ANSSI CERT-FR' }).waitFor({ state: 'detached' });
  ok('fr.anssi withdrew it');
  await cpage.getByLabel('State', { exact: true }).selectOption('fr');
  const hist = cpage.locator('table[aria-labelledby="dir-history"] tbody tr');
  await hist.nth(1).waitFor();
  const histText = await hist.allTextContents();
  check('the history of fr\'s contacts: withdrawn, then (before) nominated, signed by fr.anssi',
    histText.length === 2 && /Withdrawn/.test(histText[0]) && /Nominated: ANSSI CERT-FR/.test(histText[1]) &&
    histText.every((r) => r.includes('fr.anssi')), JSON.stringify(histText));
  await axe(cpage, 'directory history');
  await shot(cpage, 'directory-history-phone');

  // ---- pings: fr.anssi checks in.mea's contact; in.mea answers in one click
  await cpage.getByRole('link', { name: 'New ping' }).click();
  await heading(cpage, 'New ping');
  await cpage.getByLabel('To (states or parties, comma-separated)').fill('in.mea');
  await cpage.getByLabel('Announced in advance').check();
  await cpage.getByLabel('Contact kind (optional)').selectOption('diplomatic');
  await cpage.getByLabel('Round (optional)').fill('2026-Q4');
  await axe(cpage, 'compose ping');
  await shot(cpage, 'compose-ping');
  await cpage.getByRole('button', { name: 'Sign and send' }).click();
  await heading(cpage, /^ping /);
  const pingId = decodeURIComponent(new URL(cpage.url()).hash.replace('#/message/', ''));
  check('the ping was sent', pingId.startsWith('ping--'), pingId);
  check('no ack, reply or close offered to the pinger', await cpage.getByRole('button', { name: /Acknowledge|Send reply|Close/ }).count() === 0);
  await noOverflow(cpage, 'message at 390x844');
  await shot(cpage, 'message-phone');
  await b.goto(`${url}/#/inbox`);
  await b.locator(`a[href="#/message/${pingId}"]`).click();
  await heading(b, /^ping /);
  check('a ping offers only its answer', await b.getByRole('button', { name: /Acknowledge|Send reply|Close/ }).count() === 0);
  await b.getByRole('button', { name: 'Answer the ping' }).click();
  await b.getByRole('status').filter({ hasText: 'Sent pong' }).waitFor({ timeout: 15000 });
  ok('the contact answered the ping in one click');
  check('the charts\' chunk is not loaded before the statistics open',
    !cpage.assets.some((r) => /\/pings-[A-Z0-9]+\.js$/.test(r.url())));
  await cpage.getByRole('link', { name: 'Pings' }).click();
  await heading(cpage, 'Pings');
  await cpage.locator('figure.chart canvas').nth(5).waitFor({ timeout: 15000 });
  check('the statistics screen fetched the charts\' chunk when it opened',
    cpage.assets.some((r) => /\/pings-[A-Z0-9]+\.js$/.test(r.url())));
  check('six charts over time (per contact, per state, per region), each with its figures as a table',
    await cpage.locator('figure.chart details table').count() === 6);
  const perState = await cpage.locator('table[aria-label="Share of pings answered per state, week by week (%)"]').textContent();
  check('per state: in, answered in full in the last week', /^Week to\s*in/.test(perState) && perState.trim().endsWith('100 %'), perState);
  const perRegion = await cpage.locator('table[aria-label="Share of pings answered per region, week by week (%)"]').textContent();
  check('per region: in is in Asia (UN M49)', /^Week to\s*Asia/.test(perRegion) && perRegion.trim().endsWith('100 %'), perRegion);
  const row = cpage.locator('table[aria-label="Answers to pings per contact"] tr', { hasText: 'in.mea' });
  await row.waitFor();
  check('ping statistics: in.mea, 1 sent, 1 answered', (await row.textContent()).includes('diplomatic11'), await row.textContent());
  await axe(cpage, 'pings');
  await shot(cpage, 'pings');

  // ---- cases: pk.mofa requests preservation and consultations from in;
  // in.mea accepts in its browser; fr.anssi can read nothing of them ------
  await a.getByRole('link', { name: 'Cases' }).click();
  await heading(a, 'Cases');
  await a.locator('p', { hasText: 'You have no open case.' }).waitFor();
  await axe(a, 'cases (none)');
  await a.getByRole('link', { name: 'Request expedited preservation' }).click();
  await heading(a, 'Request expedited preservation');
  await a.getByRole('button', { name: 'Sign and send' }).click();
  await a.locator('#custodian-err').waitFor();
  const six = ['requesting_authority', 'offence', 'data', 'custodian', 'necessity', 'mla_to_follow'];
  const missing = [];
  for (const f of six) if (!(await a.locator(`#${f}-err`).count())) missing.push(f);
  check('preservation: each of the six mandatory fields is refused next to it, before signing', !missing.length, missing.join());
  check('preservation: the first field in error has focus', await a.evaluate(() => document.activeElement.getAttribute('aria-invalid') === 'true'));
  await axe(a, 'preservation request with errors');
  await shot(a, 'case-new-preservation-errors');
  await a.getByLabel('Requested state or party').fill('in');
  await a.getByLabel('Requesting authority', { exact: true }).fill('FIA Cyber Crime Wing');
  await a.getByLabel('The offence and a summary of the facts').fill(OFFENCE);
  await a.getByLabel('Data to preserve and its relation to the offence').fill('web server logs of 2026-11-30, ransomware C2');
  await a.getByLabel('Custodian or location of the system').fill('a hosting company in Mumbai');
  await a.getByLabel('Why preservation is necessary').fill('logs are deleted after 7 days');
  await a.getByLabel('Preservation period (days) (optional)').fill('30');
  await a.getByLabel('A mutual-assistance request will follow').check();
  await a.getByRole('button', { name: 'Sign and send' }).click();
  await a.locator('#period_days-err').waitFor();
  check('preservation: a period under 60 days is refused by the published schema',
    (await a.textContent('#period_days-err')).includes('60'));
  await a.getByLabel('Preservation period (days) (optional)').fill('90');
  await a.getByRole('button', { name: 'Sign and send' }).click();
  await heading(a, /^Preservation request /);
  ids.preservation = decodeURIComponent(new URL(a.url()).hash.replace('#/case/', ''));
  await a.locator('dd', { hasText: OFFENCE }).waitFor();
  const ans = a.locator('tr', { hasText: 'answer' }).first();
  check('preservation: the answer clock runs, on in', (await ans.textContent()).includes('Running') && (await ans.textContent()).includes('in'));
  await axe(a, 'preservation case');
  await shot(a, 'case-preservation');

  // the MLA and emergency forms: every mandatory field asked for
  for (const [link, fields] of [['Request mutual legal assistance', ['requesting_authority', 'subject', 'facts', 'assistance', 'purpose']],
    ['Record an emergency request', ['requesting_authority', 'emergency', 'facts', 'assistance']]]) {
    await a.getByRole('link', { name: 'Cases' }).click();
    await heading(a, 'Cases');
    await a.getByRole('link', { name: link }).click();
    await heading(a, link);
    await a.getByRole('button', { name: 'Sign and send' }).click();
    await a.locator('#to-err').waitFor();
    const lack = [];
    for (const f of fields) if (!(await a.locator(`#${f}-err`).count())) lack.push(f);
    check(`${link}: each mandatory field refused next to it`, !lack.length, lack.join());
    await axe(a, `${link} with errors`);
  }
  await a.getByRole('link', { name: 'Cases' }).click();
  await heading(a, 'Cases');
  await a.getByRole('link', { name: 'Request consultations' }).click();
  await heading(a, 'Request consultations');
  await axe(a, 'consultation form');
  await a.getByLabel('Requested state or party').fill('in');
  await a.getByLabel('About (record ids, comma-separated)').fill(ids.request);
  await a.getByLabel('Subject', { exact: true }).fill(CASE_MARK);
  await a.getByLabel('Summary', { exact: true }).fill(CASE_SUMMARY);
  await a.getByLabel('Format (optional)').selectOption('video');
  await shot(a, 'case-new-consultation');
  await a.getByRole('button', { name: 'Sign and send' }).click();
  await heading(a, /^Consultation /);
  ids.consult = decodeURIComponent(new URL(a.url()).hash.replace('#/case/', ''));
  await a.locator('dd', { hasText: CASE_MARK }).waitFor();
  ok('pk.mofa requested consultations, sealed, and reads its subject in its browser');
  check('the requester is not offered Accept (the node\'s next)', await a.getByRole('button', { name: 'Accept', exact: true }).count() === 0);
  check('the requester may close it', await a.getByRole('button', { name: 'Close with an outcome' }).count() === 1);
  await axe(a, 'consultation (requester)');

  await b.goto(`${url}/#/cases`);
  await heading(b, 'Cases');
  await b.locator(`a[href="#/case/${ids.consult}"]`).waitFor();
  check('in.mea lists both cases', await b.locator(`a[href="#/case/${ids.preservation}"]`).count() === 1);
  await axe(b, 'cases');
  await shot(b, 'cases');
  await b.locator(`a[href="#/case/${ids.consult}"]`).click();
  await heading(b, /^Consultation /);
  await b.locator('dd', { hasText: CASE_MARK }).waitFor();
  ok('in.mea opens the sealed consultation in its browser');
  const offered = (await b.locator('ul.actions button').allTextContents()).join('|');
  check('in.mea is offered what the node allows now', offered === 'Accept|Propose another date or format|Decline|Add to the agenda|Add a document', offered);
  check('keyboard: Tab reaches Accept', await tabTo(b, () => document.activeElement.textContent === 'Accept'));
  await b.keyboard.press('Enter');
  await b.locator('#f-date').waitFor();
  check('the chosen action\'s form takes the focus', await b.evaluate(() => document.activeElement.id === 'f-date'));
  await b.getByLabel('Date (optional)', { exact: true }).fill('2026-12-20T10:00');
  await b.getByLabel('Location (optional)').fill('video link');
  await axe(b, 'consultation accept form');
  await b.getByLabel('Location (optional)').focus();
  await b.keyboard.press('Tab'); // Note
  await b.keyboard.press('Tab'); // Sign and send
  check('keyboard: Tab from the last field reaches Sign and send', await b.evaluate(() => document.activeElement.textContent === 'Sign and send'));
  await b.keyboard.press('Enter');
  await b.getByRole('status').filter({ hasText: 'Sent consult-accept' }).waitFor({ timeout: 15000 });
  await b.locator('dd strong', { hasText: 'accepted' }).waitFor({ timeout: 15000 });
  ok('in.mea accepted the consultation in the UI');
  await axe(b, 'consultation (accepted)');
  await shot(b, 'case-consultation');
  // the case screens in Arabic (right to left) and French
  await b.locator('#lang').selectOption('ar');
  await heading(b, /^مشاورات /);
  check('Arabic case view: translated actions', await b.getByRole('button', { name: 'تسجيل اجتماع' }).count() === 1);
  await axe(b, 'consultation (Arabic)');
  await shot(b, 'case-consultation-ar');
  await b.locator('#lang').selectOption('fr');
  await heading(b, /^Consultation /);
  check('French case view: translated clocks', (await b.textContent('main')).includes('Qui doit agir'));
  await b.locator('#lang').selectOption('en');
  await heading(b, /^Consultation /);
  await a.getByRole('link', { name: 'Cases' }).click();
  await heading(a, 'Cases');
  await a.locator(`a[href="#/case/${ids.consult}"]`).click();
  await a.locator('dd strong', { hasText: 'accepted' }).waitFor({ timeout: 15000 });
  check('pk.mofa sees it accepted, and may now record a meeting', await a.getByRole('button', { name: 'Record a meeting' }).count() === 1);

  await cpage.goto(`${url}/#/case/${ids.consult}`);
  await cpage.getByRole('alert').waitFor({ timeout: 15000 });
  check('a third party gets no case, and sees none of it', !(await cpage.textContent('body')).includes(CASE_MARK));
  const cst = await cpage.evaluate(async (id) => [(await fetch(`/v1/framework/cases/${id}`)).status,
    (await fetch(`/v1/records/${id}`)).status], ids.consult);
  check('a third party cannot fetch the case or its record (404, 404)', cst[0] === 404 && cst[1] === 404, JSON.stringify(cst));
  await cpage.goto(`${url}/#/cases`);
  await heading(cpage, 'Cases');
  check('a third party lists no case', await cpage.locator('a[href^="#/case/"]').count() === 0);

  // ---- A: the reply, opened; close; logout -------------------------------
  await a.goto(`${url}/#/message/${ids.request}`);
  await a.locator('dd', { hasText: REPLY_MARK }).waitFor({ timeout: 15000 });
  ok('the author opens the sealed reply in its browser');
  await a.getByRole('button', { name: 'Check the receipt' }).click();
  await a.getByRole('status').filter({ hasText: 'Receipt verified' }).waitFor({ timeout: 15000 });
  ok('the receipt verifies in the browser against the node\'s log key');
  await axe(a, 'message with receipt');
  await shot(a, 'message-receipt');
  const list = await a.evaluate(async () => (await (await fetch('/v1/records?type=reply')).json()).records.map((r) => r.id));
  ids.reply = list[list.length - 1];
  await a.getByLabel('Reason for closing (optional)').fill('done, thank you');
  await a.getByRole('button', { name: 'Close the message' }).click();
  await a.getByRole('status').filter({ hasText: 'Sent close' }).waitFor({ timeout: 15000 });
  await a.locator('p', { hasText: 'State: closed' }).waitFor({ timeout: 15000 });
  ok('the author closed the request');
  await a.getByRole('link', { name: 'Inbox' }).click();
  await heading(a, 'Inbox');
  await a.getByRole('button', { name: 'Log out' }).click();
  await heading(a, 'Log in');
  const after = await a.evaluate(async () => (await fetch('/v1/session', { headers: { 'X-Comity-UI': '1' } })).status);
  check('logged out: the session is gone (401)', after === 401, `got ${after}`);
  check(`watched every request (${h.watched})`, h.watched > 20);
} catch (e) {
  bad(`browser workflow: ${e.stack || e}`);
  // what each page showed when it failed, for the log reader
  for (const [i, p] of browser.contexts().flatMap((c) => c.pages()).entries())
    await p.screenshot({ path: `${shots}/failed-${i}.png`, fullPage: true }).catch(() => {});
} finally {
  await browser.close();
  writeFileSync(`${dir}/ids.json`, JSON.stringify(ids));
}
h.exit();
