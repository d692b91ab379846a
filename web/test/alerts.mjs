// alerts.mjs: the e-mail alerts screen (web/src/alerts.js) in Debian's
// chromium.  Run by tests/cli/web_alerts.sh:
//
//   node test/alerts.mjs URL DIR SHOTS
//
// Logs in with DIR/b.key (a party of a node whose node.conf names a relay),
// reaches #/alerts by keyboard from the navigation, is refused a bad
// address next to the field (by the browser, then by the node), turns
// alerts on for overdue items only, checks the node holds that choice,
// stops them; axe-core finds nothing on the screen off and on.  The
// harness (harness.mjs) launches chromium, logs in, watches every request
// for the key's secrets, runs axe and writes the screenshots.  Prints
// "ok ..." / "FAIL ..." lines; exits 1 if any check failed.
import { harness } from './harness.mjs';

const [url, dir, shots] = process.argv.slice(2);
const keyfile = `${dir}/b.key`;
const h = harness({ url, shots });
const { ok, check } = h;

const browser = await h.launch();
try {
  const page = await h.login(browser, 'in.cert-in', keyfile, { viewport: { width: 1280, height: 900 }, allow: [400] });
  page.setDefaultTimeout(30000);
  // by keyboard: the navigation's link, then Enter
  await page.getByRole('link', { name: 'Alerts' }).focus();
  await page.keyboard.press('Enter');
  await page.locator('h1', { hasText: 'E-mail alerts' }).waitFor();
  await page.getByText('Alerts are off.').waitFor();
  ok('the alerts screen, reached by keyboard, says alerts are off');
  check('it says the mail never says what', await page.getByText('never what').count() > 0);
  await h.axe(page, 'alerts (off)');
  await h.shot(page, 'alerts');

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
  await h.axe(page, 'alerts (with an error)');

  await email.fill('duty@cert-in.example');
  await page.getByLabel('new items').uncheck();
  await page.getByRole('button', { name: 'Turn alerts on' }).click();
  await page.getByText('Alerts are on, to').waitFor();
  const got = await page.evaluate(async () => (await fetch('/v1/alerts', { headers: { 'X-Comity-UI': '1' } })).json());
  check('the node holds the choice: overdue items only',
    got.email === 'duty@cert-in.example' && got.new === false && got.overdue === true, JSON.stringify(got));
  await h.axe(page, 'alerts (on)');
  await h.shot(page, 'alerts-on');

  await page.getByRole('button', { name: 'Stop alerts' }).click();
  await page.getByText('Alerts are off.').waitFor();
  const after = await page.evaluate(async () => (await fetch('/v1/alerts', { headers: { 'X-Comity-UI': '1' } })).json());
  check('stopped: the node holds no address', after.email === null, JSON.stringify(after));
} catch (e) {
  h.bad(`alerts screen: ${e.message}`);
} finally {
  await browser.close();
}
h.exit();
