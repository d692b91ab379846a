// late-join.mjs: the case screen for a party admitted to a case after it
// opened, in Debian's chromium.  Run by tests/cli/web_late_join.sh:
//
//   node test/late-join.mjs URL DIR SHOTS CASE-ID
//
// As Germany (admitted late): the case screen loads (it used to fail on
// the first record it may not read), shows each record sealed before it
// joined as such (with its author), and the evidence sent after its
// admission opened here; in French and Arabic the same entry is
// translated (the language chooser).  axe on the screen; a screenshot; the harness fails the test
// if a key leaves the browser.
import { harness } from './harness.mjs';

const [url, dir, shots, CASE] = process.argv.slice(2);
const h = harness({ url, shots });
const browser = await h.launch();
try {
  const de = await h.login(browser, 'de.bafa', `${dir}/de.bafa.key`);
  await de.goto(`${url}/#/case/${CASE}`);
  await de.getByText('forensic-report').first().waitFor();
  h.ok('the case screen loads for a late party, the later evidence opened');
  const before = de.locator('.sealed-before');
  const n = await before.count();
  h.check('the opening, sealed before it joined, shows as such (its request and admission it reads)', n === 1, `${n} entries`);
  const first = await before.first().textContent();
  h.check('... naming their author, without failing', first.includes('Sealed before you joined') && first.includes('pk.mofa'), first);
  h.check('no error on the screen', await de.locator('[role="alert"]').count() === 0);
  h.check('the actions allowed are offered', await de.locator('#case-actions').count() === 1);
  await h.axe(de, 'the case, joined late');
  await h.shot(de, 'case-late-join');
  for (const [lang, word] of [['fr', 'Scellé avant'], ['ar', 'مختوم قبل']]) {
    await de.locator('#lang').selectOption(lang);
    await de.locator('.sealed-before', { hasText: word }).first().waitFor();
    h.ok(`... in ${lang}`);
  }
  await de.locator('#lang').selectOption('en');
} catch (e) {
  h.bad(`late join: ${e.message}`);
} finally {
  await browser.close();
}
h.exit();
