// spyware.mjs: the spyware registry's screens (web/src/screens/spyware.js)
// and its misuse case in the case view, in Debian's chromium.  Run by
// tests/cli/web_spyware.sh, which set the node up with the CLI:
//
//   node test/spyware.mjs URL DIR SHOTS NSO-ID CASE-ID YEAR
//
// As France: "q cyber" finds NSO Group; its page shows its products, the
// US listing, Germany's public denial, France's own licence (sealed to
// France, opened in this browser) and France's misuse case; the case view;
// the transparency report, whose figures equal the node's.  As Italy (no
// party to the case, no licence): the case is refused, the vendor's page
// shows neither.  axe on every screen; screenshots; the harness fails the
// test if a key or the sealed licence's end user leaves a browser.
import { harness } from './harness.mjs';

const [url, dir, shots, NSO, CASE, YEAR] = process.argv.slice(2);
const SEALED_END_USER = 'Gendarmerie Mobile Unit 7';
const h = harness({ url, shots, secrets: [SEALED_END_USER] });
const browser = await h.launch();
try {
  const fr = await h.login(browser, 'fr.sgdsn', `${dir}/fr.sgdsn.key`);
  // the registry, by a synonym written otherwise
  await fr.getByRole('link', { name: 'Spyware registry' }).click();
  await h.heading(fr, 'Commercial spyware registry');
  await fr.getByLabel('Any name or synonym of a vendor').fill('q cyber');
  await fr.getByRole('button', { name: 'Find' }).click();
  const found = fr.getByRole('status').filter({ hasText: 'bear this name' });
  await found.waitFor();
  h.check('"q cyber" is compared as "qcyber"', (await found.textContent()).includes('"qcyber"'));
  const link = fr.getByRole('link', { name: 'NSO group' });
  h.check('... and finds NSO Group', await link.count() === 1);
  await h.axe(fr, 'the registry search');
  await h.shot(fr, 'spyware-search');

  // the vendor's page
  await link.click();
  await h.heading(fr, 'NSO group');
  await fr.getByText(SEALED_END_USER).waitFor();
  const text = await fr.locator('main').textContent();
  h.check('the page names its synonyms', text.includes('Q-Cyber'));
  h.check('... the US listing', text.includes('us-entity-list') && text.includes('spyware used against journalists'));
  h.check("... Germany's denial published in clear", text.includes('Presidency Guard'));
  h.check("... France's licence, sealed to France and opened here",
    (await fr.locator('.sealed-licences').textContent()).includes(SEALED_END_USER));
  const caseLink = fr.locator(`a[href="#/case/${CASE}"]`);
  h.check("... France's misuse case about it", await caseLink.count() === 1);
  await h.axe(fr, "a vendor's page");
  await h.shot(fr, 'spyware-vendor');

  // the misuse case view
  await caseLink.click();
  await fr.getByText('spyware-misuse', { exact: false }).first().waitFor();
  await fr.getByText('journalist').first().waitFor();
  h.ok('the misuse case view shows the case and its opened body (journalist)');
  await h.axe(fr, 'the misuse case');
  await h.shot(fr, 'spyware-case');

  // the report
  await fr.goto(`${url}/#/spyware-report`);
  await h.heading(fr, 'Transparency report');
  await fr.getByLabel('Year', { exact: true }).fill('');
  await fr.getByRole('button', { name: 'Show' }).click();
  await fr.locator('table').waitFor();
  const rep = await fr.evaluate(async () => (await fetch('/v1/framework/spyware/report', { headers: { 'X-Comity-UI': '1' } })).json());
  const shown = await fr.locator('tbody tr').evaluateAll((rows) => rows.map((r) =>
    [...r.querySelectorAll('th, td')].map((c) => (c.querySelector('summary') || c).textContent.trim()).join(' ')));
  const want = rep.groups.map((g) => [g.state, g.year, g.licences.granted.count, g.licences.denied.count,
    g.listings.count, g.misuse_cases.opened.count, g.misuse_cases.closed.count].join(' '));
  h.check("the report's rows are the node's figures", JSON.stringify(shown) === JSON.stringify(want),
    `${JSON.stringify(shown)} vs ${JSON.stringify(want)}`);
  h.check('... the US listing of 2021 and the German denials (NSO, and the 1,000 about Candiru), nothing sealed',
    want.includes('us 2021 0 0 1 0 0') && want.includes(`de ${YEAR} 0 1001 0 0 0`) && !want.some((r) => r.startsWith('fr ')),
    JSON.stringify(want));
  const usRow = fr.locator('tbody tr', { has: fr.locator('th', { hasText: /^us$/ }) });
  await usRow.locator('summary').first().click();
  const receipt = usRow.locator('a', { hasText: 'receipt' }).first();
  await receipt.waitFor();
  const href = await receipt.getAttribute('href');
  h.check('a figure opens onto its records and their receipts', /^\/v1\/records\/spyware-listing--.*\/receipt$/.test(href || ''), href);
  await h.axe(fr, 'the report');
  await h.shot(fr, 'spyware-report');
  await fr.context().close();

  // Italy: no party to the case, no licence
  const it = await h.login(browser, 'it.uama', `${dir}/it.uama.key`);
  await it.goto(`${url}/#/case/${CASE}`);
  await it.getByText(`no case ${CASE}`, { exact: false }).waitFor();
  h.check('Italy is refused the sealed case, as for an unknown id',
    !(await it.locator('main').textContent()).includes('journalist'));
  await h.axe(it, 'the case refused');
  await h.shot(it, 'spyware-case-refused');
  await it.goto(`${url}/#/spyware-vendor/${NSO}`);
  await h.heading(it, 'NSO group');
  await it.getByText('No licence sealed to you names this vendor.').waitFor();
  await it.getByText('None of your misuse cases names this vendor.').waitFor();
  const itText = await it.locator('main').textContent();
  h.check("Italy sees neither France's licence nor the case", !itText.includes(SEALED_END_USER) && !itText.includes(CASE));
  await h.axe(it, "a vendor's page (Italy)");
} catch (e) {
  h.bad(`spyware screens: ${e.message}`);
} finally {
  await browser.close();
}
h.exit();
