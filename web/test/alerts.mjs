// alerts.mjs: the e-mail alerts screen (web/src/alerts.js) in Debian's
// chromium.  Run by tests/cli/web_alerts.sh:
//
//   node test/alerts.mjs URL KEYFILE SHOTS
//
// Logs in with KEYFILE (a party of a node whose node.conf names a relay),
// reaches #/alerts by keyboard from the navigation, is refused a bad
// address next to the field (by the browser, then by the node), turns
// alerts on for overdue items only, checks the node holds that choice,
// stops them; axe-core finds nothing on the screen off and on.  Prints
// "ok ..." / "FAIL ..." lines; exits 1 if any check failed.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [url, keyfile, shots] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
let fails = 0;
const ok = (m) => console.log(`ok   ${m}`);
const bad = (m) => { console.log(`FAIL ${m}`); fails++; };
const check = (m, cond, detail = '') => (cond ? ok(m) : bad(`${m} ${detail}`));

async function axe(page, name) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => `${v.id}: ${v.nodes.length} node(s) ${v.nodes[0].target}`);
  });
  check(`axe: no violations on ${name}`, r.length === 0, JSON.stringify(r));
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  page.setDefaultTimeout(30000);
  page.on('pageerror', (e) => bad(`page error ${e.message}`));
  await page.goto(`${url}/`);
  await page.setInputFiles('#keyfile', keyfile);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('h1', { hasText: 'Inbox' }).waitFor();
  // by keyboard: the navigation's link, then Enter
  await page.getByRole('link', { name: 'Alerts' }).focus();
  await page.keyboard.press('Enter');
  await page.locator('h1', { hasText: 'E-mail alerts' }).waitFor();
  await page.getByText('Alerts are off.').waitFor();
  ok('the alerts screen, reached by keyboard, says alerts are off');
  check('it says the mail never says what', await page.getByText('never what').count() > 0);
  await axe(page, 'alerts (off)');
  await page.screenshot({ path: `${shots}/alerts.png`, fullPage: true });

  const email = page.getByLabel('E-mail address');
  await email.fill('not-an-address');
  await page.getByRole('button', { name: 'Turn alerts on' }).click();
  await page.locator('#alert-email-err').waitFor();
  check('a bad address: refused next to the field', await email.getAttribute('aria-invalid') === 'true');
  // one the browser lets through and the node refuses (a comma)
  await email.fill('duty,x@in.example');
  await page.getByRole('button', { name: 'Turn alerts on' }).click();
  await page.locator('#alert-email-err', { hasText: 'want an address' }).waitFor();
  ok("the node's refusal shown next to the field");
  await axe(page, 'alerts (with an error)');

  await email.fill('duty@cert-in.example');
  await page.getByLabel('new items').uncheck();
  await page.getByRole('button', { name: 'Turn alerts on' }).click();
  await page.getByText('Alerts are on, to').waitFor();
  const got = await page.evaluate(async () => (await fetch('/v1/alerts', { headers: { 'X-Comity-UI': '1' } })).json());
  check('the node holds the choice: overdue items only',
    got.email === 'duty@cert-in.example' && got.new === false && got.overdue === true, JSON.stringify(got));
  await axe(page, 'alerts (on)');
  await page.screenshot({ path: `${shots}/alerts-on.png`, fullPage: true });

  await page.getByRole('button', { name: 'Stop alerts' }).click();
  await page.getByText('Alerts are off.').waitFor();
  const after = await page.evaluate(async () => (await fetch('/v1/alerts', { headers: { 'X-Comity-UI': '1' } })).json());
  check('stopped: the node holds no address', after.email === null, JSON.stringify(after));
} catch (e) {
  bad(`alerts screen: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(fails ? 1 : 0);
