// register.mjs: a newcomer registered by the operator from the browser
// alone (issue 15, "Done when": "creates or loads a key in the browser,
// is registered by the operator from the operator's own screens").  Run
// by tests/cli/web_register.sh:
//
//   node test/register.mjs URL DIR SHOTS OPERATOR_TOKEN
//
// ke.cert makes a key in its browser (protected with a passphrase), saves
// the key file (written to DIR/ke.cert.key.age, and opened here into
// DIR/ke.cert.key for the shell's checks with the CLI), and sends its
// request; its name is refused next to the field when malformed, and a
// second newcomer asking for the same name is told it already awaits;
// logging in before approval says "not registered yet".  tz.nisc loads a
// key file `comity keygen` made and asks too.  The operator logs in with
// its token (a wrong one is refused), sees both requests, approves
// ke.cert and refuses tz.nisc; ke.cert then logs in with the key still in
// its page, tz.nisc cannot.  The requests never carry a secret key, the
// passphrase or the key file (the harness's watch); axe finds nothing on
// the screens.
import { readFileSync, writeFileSync } from 'node:fs';
import { Decrypter, armor } from 'age-encryption';
import { harness, keySecrets } from './harness.mjs';

const [url, dir, shots, opToken] = process.argv.slice(2);
const PASS = 'correct horse battery staple 7';
const h = harness({ url, shots, secrets: [PASS, ...keySecrets(`${dir}/tz.nisc.key`)] });

async function newcomer(browser, who) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 }, acceptDownloads: true });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  h.watch(page, who);
  page.on('pageerror', (e) => h.bad(`${who}: page error ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 4\d\d|Content Security Policy/.test(m.text()))
      h.bad(`${who}: console error ${m.text()}`);
  });
  await page.goto(`${url}/`);
  await h.heading(page, 'Log in');
  await page.getByRole('link', { name: /New here/ }).click();
  await h.heading(page, 'Ask to be registered');
  return page;
}

const status = (page) => page.locator('.msg').last().textContent();

const browser = await h.launch();
try {
  // ---- ke.cert: a key made here, protected with a passphrase
  const a = await newcomer(browser, 'ke.cert');
  await h.axe(a, 'register');
  await h.shot(a, 'register');
  await a.fill('#f-party', 'KE cert');
  await a.getByRole('button', { name: 'Make the key' }).click();
  h.check('a malformed party name is refused next to the field',
    (await a.locator('#party-err').textContent()).includes('state code')
    && (await a.getAttribute('#f-party', 'aria-invalid')) === 'true');
  await a.fill('#f-party', 'ke.cert');
  await a.fill('#newpass', PASS);
  await a.getByRole('button', { name: 'Make the key' }).click();
  await a.getByRole('link', { name: /Save the key file ke\.cert\.key\.age/ }).waitFor();
  const [dl] = await Promise.all([a.waitForEvent('download'),
    a.getByRole('link', { name: /Save the key file/ }).click()]);
  await dl.saveAs(`${dir}/ke.cert.key.age`);
  const armored = readFileSync(`${dir}/ke.cert.key.age`, 'utf8');
  h.check('the saved key file is protected (an armored age file)', armored.startsWith('-----BEGIN AGE ENCRYPTED FILE-----'));
  const d = new Decrypter();
  d.addPassphrase(PASS);
  const keyText = await d.decrypt(armor.decode(armored), 'text');
  writeFileSync(`${dir}/ke.cert.key`, keyText, { mode: 0o600 });
  h.secrets.push(...keySecrets(`${dir}/ke.cert.key`), keyText, armored.split('\n')[1]);
  h.check('it opens with the passphrase into a comity key file for ke.cert',
    /^# public key: ke\.cert\+[0-9a-f]{8}\+/m.test(keyText) && /^AGE-SECRET-KEY-1/m.test(keyText));
  await a.fill('#f-note', 'Kenya national CERT, duty desk +254 20 000 0000');
  await h.shot(a, 'register-key');
  await a.getByRole('button', { name: 'Send the request' }).click();
  await a.getByText('Request sent').waitFor();
  h.ok('ke.cert sent its signed request');
  await a.getByRole('button', { name: /Log in \(once approved\)/ }).click();
  await a.getByText('Not registered yet').waitFor();
  h.ok('before approval, its login says it is not registered yet');
  await h.axe(a, 'register (sent)');
  await h.shot(a, 'register-sent');

  // ---- a second newcomer asking for the same name: told it awaits
  const dup = await newcomer(browser, 'ke.cert (twice)');
  await dup.fill('#f-party', 'ke.cert');
  await dup.getByRole('button', { name: 'Make the key' }).click();
  await dup.getByRole('button', { name: 'Send the request' }).click();
  await dup.getByText(/refused the request/).waitFor();
  h.check('a second request for a pending name is refused with the reason',
    (await status(dup)).includes('already awaits the operator'), await status(dup));
  await dup.context().close();

  // ---- tz.nisc: a key file from `comity keygen`, loaded here
  const b = await newcomer(browser, 'tz.nisc');
  await b.setInputFiles('#regkey', `${dir}/tz.nisc.key`);
  await b.getByRole('button', { name: 'Use this key' }).click();
  await b.getByText('Key of tz.nisc loaded').waitFor();
  await b.fill('#f-note', 'TZ NISC');
  await b.getByRole('button', { name: 'Send the request' }).click();
  await b.getByText('Request sent').waitFor();
  h.ok('tz.nisc sent a request with its keygen key file');

  // ---- the operator
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const op = await ctx.newPage();
  op.setDefaultTimeout(20000);
  h.watch(op, 'operator');
  op.on('pageerror', (e) => h.bad(`operator: page error ${e.message}`));
  await op.goto(`${url}/`);
  await h.heading(op, 'Log in');
  await op.getByText('Node operator').click();
  await op.fill('#optoken', 'not-the-operator-token');
  await op.getByRole('button', { name: 'Log in as operator' }).click();
  await op.getByText(/not this node's operator token/).waitFor();
  h.ok('a wrong operator token is refused');
  await h.shot(op, 'login-operator');
  await op.fill('#optoken', opToken);
  await op.getByRole('button', { name: 'Log in as operator' }).click();
  await h.heading(op, 'Registration requests');
  const rows = op.locator('tbody tr');
  await rows.nth(1).waitFor();
  h.check('the operator sees both requests, oldest first, with the note',
    (await rows.count()) === 2 && (await rows.nth(0).textContent()).includes('ke.cert')
    && (await rows.nth(0).textContent()).includes('duty desk') && (await rows.nth(1).textContent()).includes('tz.nisc'));
  const kid = /^# public key: ke\.cert\+([0-9a-f]{8})\+/m.exec(keyText)[1];
  h.check('the row shows the key id the newcomer can confirm', (await rows.nth(0).textContent()).includes(kid));
  await h.axe(op, 'operator');
  await h.shot(op, 'operator');
  await op.goto(`${url}/#/inbox`);
  await h.heading(op, 'Registration requests');
  h.ok("the operator's session shows no party screen (the inbox leads to the operator's)");
  await op.getByRole('button', { name: 'Approve ke.cert' }).click();
  await op.getByText('ke.cert is registered').waitFor();
  await op.getByRole('button', { name: 'Refuse tz.nisc' }).click();
  await op.getByText('The request of tz.nisc was refused').waitFor();
  await op.getByText('No request awaits').waitFor();
  h.ok('the operator approved ke.cert and refused tz.nisc by keyboard-reachable buttons');

  // ---- after the decisions
  await a.getByRole('button', { name: /Log in \(once approved\)/ }).click();
  await h.heading(a, 'Inbox');
  h.ok('ke.cert logs in with the key made in its browser');
  await a.getByRole('link', { name: 'Directory' }).click();
  await h.heading(a, 'Directory');
  await b.getByRole('button', { name: /Log in \(once approved\)/ }).click();
  await b.getByText('Not registered yet').waitFor();
  h.ok('tz.nisc, refused, cannot log in');
} catch (e) {
  h.bad(`exception: ${e.stack}`);
} finally {
  await browser.close();
}
h.exit();
