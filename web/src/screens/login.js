// login.js: #/login, the key file loaded here (opened with its passphrase
// when protected), a challenge signed here, a session cookie from the node.
// The node's operator logs in with the operator's token instead (POST
// /v1/session/operator; the operator has no signing key): the session
// then has the role "operator" and shows the operator's screens.  A
// newcomer without a registered key goes to #/register.

import { useState } from 'preact/hooks';
import * as C from '../crypto.js';
import { go } from '../router.js';
import { S, api } from '../api.js';
import { t } from '../i18n.js';
import { html, Screen, Status } from '../ui.js';

export function Login() {
  const [msg, setMsg] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(ev) {
    ev.preventDefault();
    const f = ev.target.elements.keyfile.files[0];
    if (!f) { setMsg({ error: true, text: t('login.choose') }); return; }
    setBusy(true);
    try {
      const pass = ev.target.elements.passphrase.value;
      const key = await C.parseKeyFile(await C.keyFileText(new Uint8Array(await f.arrayBuffer()), pass));
      ev.target.elements.passphrase.value = '';
      const ch = await api('POST', '/v1/session/challenge', { party: key.party });
      const signature = C.signChallenge(key, ch.challenge);
      const s = await api('POST', '/v1/session', { party: key.party, nonce: ch.nonce, signature });
      Object.assign(S, { key, party: s.party, role: s.role, csrf: s.csrf, parties: null });
      go('#/inbox');
    } catch (e) {
      setMsg({ error: true, text: t('login.failed', { why: e.message }) });
    } finally { setBusy(false); }
  }
  async function submitOperator(ev) {
    ev.preventDefault();
    const tok = ev.target.elements.optoken.value.trim();
    ev.target.elements.optoken.value = '';
    if (!tok) { setMsg({ error: true, text: t('operator.login.empty') }); return; }
    setBusy(true);
    try {
      const s = await api('POST', '/v1/session/operator', { token: tok });
      Object.assign(S, { key: null, party: s.party, role: s.role, csrf: s.csrf, parties: null });
      go('#/operator');
    } catch (e) {
      setMsg({ error: true, text: t('login.failed', { why: e.message }) });
    } finally { setBusy(false); }
  }
  return html`<${Screen} title=${t('login.title')}>
    <p>${t('login.help', { cmd: 'comity keygen' })}</p>
    <form onSubmit=${submit}>
      <div class="field"><label for="keyfile">${t('login.keyfile')}</label>
        <input id="keyfile" name="keyfile" type="file" aria-describedby="keyfile-help" />
        <p id="keyfile-help" class="help">${t('login.keyfile.help')}</p></div>
      <div class="field"><label for="passphrase">${t('login.pass')}</label>
        <input id="passphrase" name="passphrase" type="password" autocomplete="current-password"
          aria-describedby="passphrase-help" />
        <p id="passphrase-help" class="help">${t('login.pass.help', { cmd: 'age -p' })}</p></div>
      <button type="submit" disabled=${busy}>${t('login.button')}</button>
    </form>
    <${Status} msg=${msg} />
    <p><a href="#/register">${t('register.link')}</a></p>
    <details><summary>${t('operator.login')}</summary>
      <form onSubmit=${submitOperator}>
        <div class="field"><label for="optoken">${t('operator.token')}</label>
          <input id="optoken" name="optoken" type="password" autocomplete="off" aria-describedby="optoken-help" />
          <p id="optoken-help" class="help">${t('operator.token.help', { cmd: 'comity init' })}</p></div>
        <button type="submit" disabled=${busy}>${t('operator.login.button')}</button>
      </form></details>
  <//>`;
}
