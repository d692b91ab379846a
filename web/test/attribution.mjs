// attribution.mjs: story 2 of USERS.md in the web UI as far as the UI goes
// (the attribution screen, web/src/screens/attribution.js, and its graph),
// in Debian's chromium.  Run by tests/cli/web_attribution.sh:
//
//   node test/attribution.mjs URL DIR SHOTS
//
// DIR holds each party's key file and CLI config (NAME.key, NAME.conf),
// incident.fr.anssi and incident.de.bsi (the incidents), report.br (br.gsi's
// green report holding the C2's /24) and c2.json (the C2 in STIX); the CLI
// ($ATTR_COMITY) does the steps the UI does not: evidence carrying STIX
// objects, and the panel.  Prints "ok ..." / "FAIL ..." lines; exits 1 if
// any check failed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { harness } from './harness.mjs';

const [url, dir, shots] = process.argv.slice(2);
const read = (f) => readFileSync(`${dir}/${f}`, 'utf8').trim();
const INC_FR = read('incident.fr.anssi');
const INC_DE = read('incident.de.bsi');
const REPORT_BR = read('report.br');
// sealed plaintexts typed in a browser: none may leave it
const EVIDENCE = 'Beacon from the grid operator to its C2, seen by CERT-FR (fr-7731)';
const STATEMENT = 'No state involvement whatsoever (ru-4410)';
const REASONS = 'Three incidents, one C2, consistent tooling (jp-2290)';
const h = harness({ url, shots, secrets: [EVIDENCE, STATEMENT, REASONS] });
const cli = (party, ...args) => execFileSync(process.env.ATTR_COMITY, [...args, '--config', `${dir}/${party}.conf`],
  { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const short = (id) => id.split('--')[1].slice(0, 8);

// Sets field #ID: a choice or a text.
async function set(page, id, value) {
  const el = page.locator(`#${id}`);
  if ((await el.evaluate((e) => e.tagName)) === 'SELECT') await el.selectOption(value);
  else await el.fill(value);
}
async function sendForm(page) {
  await page.getByRole('button', { name: 'Sign and send' }).click();
}
const openCase = async (page, id) => {
  const to = `${url}/#/attribution/${id}`;
  if (page.url() === to) { // the same hash route does not fetch again; a reload logs out
    await page.goto(`${url}/#/cases`);
    await h.heading(page, 'Cases');
  }
  await page.goto(to);
  await page.getByRole('heading', { name: 'What you can send now' }).waitFor();
};

const browser = await h.launch();
try {
  // ---- France opens the case, sealed, about two incidents ------------------------------
  const fr = await h.login(browser, 'fr.anssi', `${dir}/fr.anssi.key`);
  await fr.goto(`${url}/#/case-new/attribution`);
  await h.heading(fr, 'Open an attribution case');
  await h.axe(fr, 'the opening form');
  await fr.fill('#f-to', 'ru.mid');
  await fr.fill('#f-third', 'de.bsi, ch.ncsc, no.nsm, jp.nisc');
  await fr.fill('#f-refs', `${INC_FR}, ${INC_DE}`);
  await fr.fill('#f-title', 'grid attack');
  await fr.fill('#f-summary', 'the attack of 1 December on three grid operators');
  await sendForm(fr);
  await h.heading(fr, /^Attribution case /);
  const CASE = decodeURIComponent(new URL(fr.url()).hash.replace('#/case/', ''));
  h.check('fr.anssi opened an attribution case in its browser', CASE.startsWith('attribution-open--'), CASE);

  // ---- evidence, from the attribution screen -----------------------------------------------
  await openCase(fr, CASE);
  await h.axe(fr, 'the attribution screen (empty)');
  await fr.getByRole('button', { name: 'Add evidence' }).click();
  await set(fr, 'f-what', EVIDENCE);
  await set(fr, 'f-observed_by', 'CERT-FR');
  await set(fr, 'f-observed_at', '2026-12-01T10:00');
  await set(fr, 'f-method', 'network-telemetry');
  await set(fr, 'f-reliability', 'B');
  await set(fr, 'f-credibility', '2');
  await h.axe(fr, 'the evidence form');
  await sendForm(fr);
  await fr.getByText(EVIDENCE).waitFor();
  h.ok('the evidence, sealed in the browser, is read back opened');
  // de.bsi's evidence carries the C2 in STIX (the form takes no STIX yet)
  cli('de.bsi', 'attribution', 'evidence', CASE, '--what', 'C2 at 203.0.113.77 in our incident', '--by', 'BSI',
    '--at', '2026-12-01T10:00:00Z', '--method', 'network-telemetry', '--reliability', 'B', '--credibility', '2',
    '--stix', `${dir}/c2.json`);

  // ---- rate de.bsi's evidence: a record naming another ---------------------------------------
  await openCase(fr, CASE);
  const deItem = fr.locator('ol.thread > li', { hasText: 'C2 at 203.0.113.77' });
  await deItem.getByRole('button', { name: 'Rate evidence' }).click();
  h.check('the rating form names the item it was opened from',
    (await fr.locator('#f-target').inputValue()) !== '' && (await fr.locator('#f-target option:checked').textContent()).startsWith('de.bsi'));
  await set(fr, 'f-reliability', 'A');
  await set(fr, 'f-credibility', '2');
  await sendForm(fr);
  await fr.getByText('rated by fr.anssi: reliability A, credibility 2').waitFor();
  h.ok('fr.anssi rated de.bsi\'s evidence: the rating is shown beside the item');

  // ---- the claim, on both evidence items ----------------------------------------------------
  await fr.getByRole('button', { name: 'Make a claim' }).click();
  await set(fr, 'f-kind', 'incident-actor');
  await set(fr, 'f-incident', INC_FR);
  await set(fr, 'f-actor', 'Sandworm');
  await set(fr, 'f-confidence', '70');
  await set(fr, 'f-likelihood', 'likely');
  await sendForm(fr);
  await fr.locator('#evs-err').waitFor();
  h.ok('a claim resting on no evidence is refused next to the boxes, before signing');
  await h.axe(fr, 'the claim form with an error');
  await fr.locator('#ev-0').check();
  await fr.locator('#ev-1').check();
  await h.shot(fr, 'attribution-claim-form');
  await sendForm(fr);
  const claimText = `Incident ${short(INC_FR)} is attributed to actor Sandworm`;
  await fr.getByText(claimText).waitFor();
  h.ok('fr.anssi claimed incident -> Sandworm; the claim is shown opened');

  // ---- the named state replies beside the claim ------------------------------------------------
  const ru = await h.login(browser, 'ru.mid', `${dir}/ru.mid.key`);
  await openCase(ru, CASE);
  await ru.getByText(claimText).waitFor();
  const ruClaim = ru.locator('ol.thread > li', { hasText: claimText });
  h.check('the named state is offered no vote', await ruClaim.getByRole('button', { name: 'Vote on a claim' }).count() === 0);
  await ruClaim.getByRole('button', { name: 'Reply to a claim' }).click();
  await set(ru, 'f-answer', 'deny');
  await set(ru, 'f-statement', STATEMENT);
  await h.axe(ru, 'the reply form');
  await sendForm(ru);
  await ru.getByText(`deny — ${STATEMENT}`).waitFor();
  h.ok('ru.mid replied (deny): the reply is shown beside the claim');
  await h.shot(ru, 'attribution-reply');

  // ---- the panel of three (CLI), then a member votes in its browser --------------------------------
  cli('fr.anssi', 'attribution', 'panel', CASE, '--member', 'ch.ncsc', '--member', 'no.nsm', '--member', 'jp.nisc');
  for (const p of ['ru.mid', 'de.bsi', 'ch.ncsc', 'no.nsm', 'jp.nisc']) cli(p, 'attribution', 'agree', CASE);
  const jp = await h.login(browser, 'jp.nisc', `${dir}/jp.nisc.key`);
  await openCase(jp, CASE);
  await jp.getByText('agreed by every party').waitFor();
  // the case is sealed: the node has no members, jp.nisc's browser opened the proposal
  const panelLine = await jp.locator('p', { hasText: 'agreed by every party' }).textContent();
  h.check('the panel\'s members, opened in the browser, are shown beside its agreement',
    panelLine.includes('ch.ncsc, no.nsm, jp.nisc') && !panelLine.includes('Sealed'), panelLine);
  await jp.locator('ol.thread > li', { hasText: claimText }).getByRole('button', { name: 'Vote on a claim' }).click();
  await set(jp, 'f-vote', 'concur');
  await set(jp, 'f-opinion', 'agree');
  await set(jp, 'f-reasons', REASONS);
  await sendForm(jp);
  await jp.getByText('Panel: 1 concur, 0 dissent, 0 abstain').waitFor();
  await jp.getByText(`concur (agree) — ${REASONS}`).waitFor();
  h.ok('jp.nisc, a panel member, voted: the tally and the reasons are shown');
  await h.axe(jp, 'the attribution screen in review');

  // ---- the graph: the C2 shared with another state's report --------------------------------------
  await openCase(fr, CASE);
  await fr.getByText('Panel: 1 concur, 0 dissent, 0 abstain').waitFor();
  const before = await fr.evaluate(() => performance.getEntriesByType('resource').filter((r) => /attribution-graph-/.test(r.name)).length);
  h.check('the graph\'s code is not fetched before the graph is opened', before === 0);
  await fr.getByRole('button', { name: 'Show the graph and the shared infrastructure' }).click();
  const row = fr.locator('tr', { hasText: '203.0.113.77' });
  await row.waitFor();
  const text = await row.textContent();
  h.check('the shared infrastructure: br.gsi\'s report holds the C2 (through its /24)',
    text.includes('br.gsi') && text.includes(short(REPORT_BR)) && text.includes('203.0.113.0/24'), text);
  h.check('... the case\'s own incidents are not listed as other reports',
    !(await fr.locator('table').textContent()).includes(short(INC_DE)));
  await fr.locator('.graph canvas').first().waitFor();
  const after = await fr.evaluate(() => performance.getEntriesByType('resource').filter((r) => /attribution-graph-/.test(r.name)).length);
  h.check('the graph is drawn (cytoscape, fetched when opened)', after === 1, `${after}`);
  const nodes = await fr.locator('.graph').getAttribute('aria-label');
  h.check('the graph says what it holds to screen readers', /\d+ items and \d+ links/.test(nodes), nodes);
  await h.axe(fr, 'the attribution screen with its graph');
  await h.shot(fr, 'attribution-graph');

  // ---- a third party: refused, learns nothing ----------------------------------------------------------
  const br = await h.login(browser, 'br.gsi', `${dir}/br.gsi.key`);
  await br.goto(`${url}/#/attribution/${CASE}`);
  await br.locator('.msg.error, [role="alert"]').first().waitFor();
  const page = await br.content();
  h.check('br.gsi, no party, is refused the sealed case and reads none of it',
    !page.includes('Sandworm') && !page.includes(EVIDENCE) && !page.includes('203.0.113.77'));
  await h.axe(br, 'the attribution screen refused to a third party');
  await h.shot(br, 'attribution-refused');
} catch (e) {
  h.bad(`stopped: ${e.message.split('\n')[0]}`);
} finally {
  await browser.close();
}
h.exit();
