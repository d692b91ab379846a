// norms.mjs: the norms screens (src/screens/norms.js) in Debian's chromium,
// run by tests/cli/web_norms.sh, which made the records with the CLI:
//
//   node test/norms.mjs URL DIR SHOTS
//
// DIR holds the key files and norms.json ({sealed, draft, mark, dmark}:
// the declaration sealed to pk and in, Pakistan's sealed draft, and the
// texts sealed in them).  Checks, as in.mea: the catalogue (the eleven),
// Pakistan's declarations with the sealed one opened in the browser, the
// reports' table of norms and 13k compared with needs matched, the
// positions compared, every step by keyboard on one screen; as pk.mofa on
// a phone-sized screen: its positions with its own draft opened here, and
// no page wider than the screen; as fr.anssi (no party): neither sealed
// text shown, and both sealed records refused.  Each screen axe clean and
// photographed; no secret key and no sealed text leaves any browser.
import { readFileSync } from 'node:fs';
import { harness } from './harness.mjs';

const [url, dir, shots] = process.argv.slice(2);
const R = JSON.parse(readFileSync(`${dir}/norms.json`, 'utf8'));
const CMARK = `complaint-summary-${Date.now()}`; // sealed in pk.mofa's browser
const h = harness({ url, shots, secrets: [R.mark, R.dmark, CMARK] });
const browser = await h.launch();
const text = (page) => page.locator('main').innerText();

// Opens a screen, waits for its data (the `ready` selector), checks it
// with axe and photographs it.
async function screen(page, hash, heading, name, ready) {
  await page.goto(`${url}/${hash}`);
  await h.heading(page, heading);
  await page.locator(ready).first().waitFor();
  await h.axe(page, name);
  await h.shot(page, name);
}

try {
  // ---- in.mea: a participating state ------------------------------------------------
  const pin = await h.login(browser, 'in.mea', `${dir}/in.mea.key`);
  await pin.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Norms' }).click();
  await h.heading(pin, 'The norm catalogue');
  await pin.waitForSelector('article.norm');
  h.check('the navigation leads to the catalogue: the eleven norms 13a-13k',
    (await pin.locator('article.norm h2').allInnerTexts()).filter((x) => /^13[a-k]: /.test(x)).length === 11);
  h.check('... each with its text and source', (await text(pin)).includes('A/70/174'));
  await h.axe(pin, 'catalogue');
  await h.shot(pin, 'catalogue');
  await pin.getByRole('navigation', { name: 'Norms' }).getByRole('link', { name: 'Complain of a violation' }).click();
  await h.heading(pin, 'Complain of a norm violation');
  h.check("the complaint's form is the case screens' (from the case types)",
    await pin.locator('#f-norm').waitFor({ timeout: 20000 }).then(() => true, () => false), 'no norm field');

  await screen(pin, '#/norms-declarations/pk', 'Protected infrastructure declared by pk', 'declarations', 'article.decl');
  await pin.getByText(R.mark).waitFor({ timeout: 15000 });
  const decl = await text(pin);
  h.check('two declarations of pk: the public one and the one sealed to pk and in',
    (await pin.locator('article.decl').count()) === 2 && decl.includes('Sealed to the participating states'));
  h.check('... the sealed one opened in this browser (its named service shown)',
    decl.includes(R.mark) && decl.includes('Opened in this browser'));
  await h.axe(pin, 'declarations, the sealed one opened');

  // the reports, by keyboard alone: the period field, Enter, the 13k link, Enter
  await pin.goto(`${url}/#/norms-reports/2026`);
  await h.heading(pin, 'Implementation reports, 2026');
  h.check('2026: no state reported', await pin.getByText('No state has reported for this period.').waitFor()
    .then(() => true, () => false));
  await pin.keyboard.press('Tab'); // from the focused heading onwards to the period field
  for (let i = 0; i < 12 && (await pin.evaluate(() => document.activeElement.id)) !== 'norms-period'; i++)
    await pin.keyboard.press('Tab');
  h.check('the period field is reached by Tab', (await pin.evaluate(() => document.activeElement.id)) === 'norms-period');
  await pin.keyboard.press('Control+A');
  await pin.keyboard.type('2026-H1');
  await pin.keyboard.press('Enter');
  await h.heading(pin, 'Implementation reports, 2026-H1');
  await pin.waitForSelector('table');
  h.check('the heading has the focus after the screen changed',
    (await pin.evaluate(() => document.activeElement.id)) === 'screen-title');
  const over = await text(pin);
  h.check('the table of norms: 13k by 2 states, 13f by 1', /13k\s+2\b/.test(over) && /13f\s+1\b/.test(over), over);
  await h.axe(pin, 'reports, the table of norms');
  await h.shot(pin, 'reports');
  await pin.getByRole('link', { name: '13k' }).focus();
  await pin.keyboard.press('Enter');
  await h.heading(pin, 'Implementation reports, 2026-H1: 13k compared');
  await pin.getByText('PKCERT given a legal mandate').waitFor();
  const cmp = await text(pin);
  h.check('13k compared state by state (pk, in)', cmp.includes('CERT-In protected by statute'));
  h.check("pk's need of legislation matched with India's offer", /pk\s+legislation\s+in\s/.test(cmp), cmp);
  h.check("... and forensics with India's offer under another norm (*)", /pk\s+forensics\s+in\*/.test(cmp), cmp);
  await h.axe(pin, 'reports, 13k compared');
  await h.shot(pin, 'reports-13k');

  await screen(pin, '#/norms-positions', 'National positions on international law', 'positions', 'text=Delegations by the state keys');
  const pos = await text(pin);
  h.check('sovereignty compared: pk and in', pos.includes('in its own right') && pos.includes('Sovereignty is a principle.'));
  h.check('the delegations listed', pos.includes('pk delegated publishing to pk.mofa'));
  h.check("India sees none of Pakistan's drafts", pos.includes('No draft or comment of your state.') && !pos.includes(R.dmark));
  await pin.context().close();

  // ---- pk.mofa on a phone-sized screen -----------------------------------------------
  const ppk = await h.login(browser, 'pk.mofa', `${dir}/pk.mofa.key`, { viewport: { width: 390, height: 844 } });
  await ppk.goto(`${url}/#/norms-positions/sovereignty`);
  await h.heading(ppk, 'National positions: sovereignty');
  await ppk.getByText(R.dmark).waitFor({ timeout: 15000 });
  h.check("pk.mofa reads its state's sealed draft, opened in this browser", (await text(ppk)).includes(R.dmark));
  await h.axe(ppk, 'positions on a phone');
  await h.shot(ppk, 'positions-phone');
  for (const [hash, heading, name, ready] of [['#/norms', 'The norm catalogue', 'catalogue-phone', 'article.norm'],
    ['#/norms-reports/2026-H1/13k', '13k compared', 'reports-13k-phone', 'table'],
    ['#/norms-declarations/pk', 'Protected infrastructure declared by pk', 'declarations-phone', 'article.decl']]) {
    await screen(ppk, hash, heading, name, ready);
    const wide = await ppk.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    h.check(`${name}: the page is no wider than the phone (tables scroll inside)`, wide <= 1, `${wide}px too wide`);
  }
  // story 2's complaint under 13(f), opened on the phone (the case screens' form), sealed here
  await ppk.goto(`${url}/#/case-new/norm-complaint`);
  await h.heading(ppk, 'Complain of a norm violation');
  await ppk.locator('#f-norm').waitFor();
  const set = async (sel, v) => ((await ppk.locator(sel).evaluate((e) => e.tagName)) === 'SELECT'
    ? ppk.locator(sel).selectOption(v) : ppk.locator(sel).fill(v));
  await set('#f-to', 'in');
  await set('#f-norm', '13f');
  await set('#f-basis', 'responsibility');
  await set('#f-subject', 'Power grid outage of 2 December');
  await set('#f-summary', CMARK);
  await h.axe(ppk, 'complaint form on a phone');
  await ppk.locator('form button[type=submit]').click();
  await ppk.waitForURL(/#\/case\/norm-complaint--/, { timeout: 30000 });
  const complaint = decodeURIComponent(ppk.url().split('#/case/')[1]);
  await ppk.getByText(CMARK).first().waitFor({ timeout: 20000 }).catch(() => {});
  h.check('pk.mofa complained under 13(f) from its browser, sealed; the case reads it there',
    (await text(ppk)).includes(CMARK), complaint);
  await h.shot(ppk, 'complaint-phone');
  await ppk.context().close();

  // ---- fr.anssi: no party to the sealed records ---------------------------------------
  const pfr = await h.login(browser, 'fr.anssi', `${dir}/fr.anssi.key`);
  await screen(pfr, '#/norms-declarations/pk', 'Protected infrastructure declared by pk', 'declarations-nonparty', 'article.decl');
  const frd = await text(pfr);
  h.check('France sees only the public declaration', (await pfr.locator('article.decl').count()) === 1 && !frd.includes(R.mark));
  await screen(pfr, '#/norms-positions', 'National positions on international law', 'positions-nonparty', 'text=Delegations by the state keys');
  h.check("France sees none of Pakistan's drafts", !(await text(pfr)).includes(R.dmark));
  const got = await pfr.evaluate(async (ids) => {
    const out = [];
    for (const id of ids) {
      const r = await fetch(`/v1/records/${encodeURIComponent(id)}`, { headers: { 'X-Comity-UI': '1' }, credentials: 'same-origin' });
      out.push([r.status, await r.text()]);
    }
    return out;
  }, [R.sealed, R.draft, complaint]);
  h.check('the sealed declaration is refused to France', got[0][0] >= 400 && !got[0][1].includes('"payload"'), JSON.stringify(got[0]));
  h.check('the sealed draft is refused to France', got[1][0] >= 400 && !got[1][1].includes('"payload"'), JSON.stringify(got[1]));
  h.check("the browser's sealed complaint is refused to France", got[2][0] >= 400 && !got[2][1].includes('"payload"'), JSON.stringify(got[2]));
  const fcase = await pfr.evaluate(async (id) => (await fetch(`/v1/framework/cases/${encodeURIComponent(id)}`,
    { headers: { 'X-Comity-UI': '1' }, credentials: 'same-origin' })).status, complaint);
  h.check('... and its case is unknown to France (404)', fcase === 404, String(fcase));
  await pfr.context().close();
} catch (e) {
  h.bad(`browser: ${e.stack || e.message}`);
}
await browser.close();
h.exit();
