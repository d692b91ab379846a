// register.js: #/register, a newcomer asks the node's operator to be
// registered as a party.  The key is made here (or loaded from a key file
// `comity keygen` wrote); the request is the newcomer's public keys and a
// note, signed here with the new key (crypto.js, signRegistration) to
// prove its possession, posted to POST /v1/registrations.  The node never
// sees the key file: it is offered as a download (protected with a
// passphrase when one is given), and kept in this page's memory so that
// the newcomer can log in once the operator has approved.

import { useState } from 'preact/hooks';
import * as C from '../crypto.js';
import * as V from '../validate.js';
import { S, api, nodeInfo } from '../api.js';
import { go } from '../router.js';
import { t } from '../i18n.js';
import { html, Screen, Status, Field } from '../ui.js';

export function Register() {
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  const [made, setMade] = useState(null); // {key, url, file}
  const [sent, setSent] = useState(null);
  const [busy, setBusy] = useState(false);

  async function create(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const party = f.party.value.trim();
    const e = V.checkRegistration(party, '');
    setErrs(e);
    if (e.party) { setMsg({ error: true, text: t('c.fix', { n: 1 }) }); return; }
    setBusy(true);
    try {
      const { key, text } = await C.newKeyFile(party);
      const pass = f.newpass.value;
      f.newpass.value = '';
      const body = pass ? await C.protectKeyFile(text, pass) : text;
      const file = pass ? `${party}.key.age` : `${party}.key`;
      const url = URL.createObjectURL(new Blob([body], { type: 'application/octet-stream' }));
      setMade({ key, url, file });
      setMsg({ text: t('register.made', { party, file }) });
    } catch (err) { setMsg({ error: true, text: err.message }); } finally { setBusy(false); }
  }

  async function load(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const file = f.regkey.files[0];
    if (!file) { setMsg({ error: true, text: t('login.choose') }); return; }
    setBusy(true);
    try {
      const key = await C.parseKeyFile(await C.keyFileText(new Uint8Array(await file.arrayBuffer()), f.regpass.value));
      f.regpass.value = '';
      setMade({ key, url: null, file: file.name });
      setMsg({ text: t('register.loaded', { party: key.party }) });
    } catch (err) { setMsg({ error: true, text: t('login.failed', { why: err.message }) }); } finally { setBusy(false); }
  }

  async function submit(ev) {
    ev.preventDefault();
    const note = ev.target.elements.note.value.trim();
    const e = V.checkRegistration(made.key.party, note);
    setErrs(e);
    if (Object.keys(e).length) { setMsg({ error: true, text: t('c.fix', { n: Object.keys(e).length }) }); return; }
    setBusy(true);
    try {
      const n = await nodeInfo();
      const req = C.signRegistration(made.key, n.origin, note);
      await api('POST', '/v1/registrations', req);
      setSent(made.key.party);
      setMsg({ text: t('register.sent', { party: made.key.party }) });
    } catch (err) { setMsg({ error: true, text: t('register.refused', { why: err.message }) }); } finally { setBusy(false); }
  }

  // once approved, log in with the key already in memory
  async function login() {
    setBusy(true);
    try {
      const key = made.key;
      const ch = await api('POST', '/v1/session/challenge', { party: key.party });
      const s = await api('POST', '/v1/session', { party: key.party, nonce: ch.nonce, signature: C.signChallenge(key, ch.challenge) });
      Object.assign(S, { key, party: s.party, role: s.role, csrf: s.csrf, parties: null });
      go('#/inbox');
    } catch (err) {
      setMsg({ error: true, text: err.status === 404 ? t('register.notyet') : t('login.failed', { why: err.message }) });
    } finally { setBusy(false); }
  }

  return html`<${Screen} title=${t('register.title')}>
    <p>${t('register.help')}</p>
    ${!made && html`<h2>${t('register.new')}</h2>
    <form onSubmit=${create} novalidate>
      <${Field} id="party" label=${t('register.party')} errs=${errs} help=${t('register.party.help')}>${(a) => html`<input ...${a} autocomplete="off" />`}<//>
      <div class="field"><label for="newpass">${t('register.pass')}</label>
        <input id="newpass" name="newpass" type="password" autocomplete="new-password" aria-describedby="newpass-help" />
        <p id="newpass-help" class="help">${t('register.pass.help')}</p></div>
      <button type="submit" disabled=${busy}>${t('register.create')}</button>
    </form>
    <h2>${t('register.have')}</h2>
    <form onSubmit=${load}>
      <div class="field"><label for="regkey">${t('login.keyfile')}</label>
        <input id="regkey" name="regkey" type="file" /></div>
      <div class="field"><label for="regpass">${t('login.pass')}</label>
        <input id="regpass" name="regpass" type="password" autocomplete="current-password" /></div>
      <button type="submit" disabled=${busy}>${t('register.load')}</button>
    </form>`}
    ${made && html`<h2>${t('register.request', { party: made.key.party })}</h2>
      ${made.url && html`<p><a href=${made.url} download=${made.file}>${t('register.save', { file: made.file })}</a></p>
        <p class="help">${t('register.save.help')}</p>`}
      <dl class="body"><dt>${t('register.vkey')}</dt><dd><code>${made.key.vkey}</code></dd>
        <dt>${t('register.rcpt')}</dt><dd><code>${made.key.recipient}</code></dd></dl>
      ${!sent && html`<form onSubmit=${submit} novalidate>
        <${Field} id="note" label=${t('register.note')} errs=${errs} help=${t('register.note.help', { max: V.REG_NOTE_MAX })}>${(a) => html`<input ...${a} maxlength=${V.REG_NOTE_MAX} />`}<//>
        <button type="submit" disabled=${busy}>${t('register.send')}</button>
      </form>`}
      ${sent && html`<p><button type="button" onClick=${login} disabled=${busy}>${t('register.login')}</button></p>`}`}
    <${Status} msg=${msg} />
    <p><a href="#/login">${t('register.back')}</a></p>
  <//>`;
}
