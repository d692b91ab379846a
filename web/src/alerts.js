// alerts.js: the e-mail alerts screen (#/alerts): whether the node tells
// this party by e-mail that something new awaits it or that something it
// must answer fell overdue.  GET, PUT and DELETE /v1/alerts, as
// `comity alerts` does; the node checks the address and keeps the choice
// (src/node/alerts.c).  The mail says only that something awaits and
// where, never what: the screen says so.
//
// app.js hands in what every screen uses (api, Screen, Status), so this
// file imports nothing of app.js.  English only so far, like the login,
// directory and log screens.
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';

const html = htm.bind(h);

export function Alerts({ api, Screen, Status }) {
  const [cur, setCur] = useState(null);
  const [err, setErr] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    api('GET', '/v1/alerts').then(setCur, (e) => setMsg({ error: true, text: e.message }));
  }, []);

  async function save(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const email = f.email.value.trim();
    setErr(null);
    // early feedback only: the node decides (and says why next to the field)
    if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
      setErr('Give an e-mail address, like duty-officer@ministry.example.');
      f.email.focus();
      return;
    }
    if (!f.new.checked && !f.overdue.checked) {
      setMsg({ error: true, text: 'Choose new items, overdue items or both (or stop alerts).' });
      return;
    }
    try {
      setCur(await api('PUT', '/v1/alerts', { email, new: f.new.checked, overdue: f.overdue.checked }));
      setMsg({ text: `Alerts on: mail goes to ${email}.` });
    } catch (e) {
      if (e.status === 400 && /email/.test(e.message)) { setErr(e.message); f.email.focus(); }
      else setMsg({ error: true, text: e.message });
    }
  }

  async function stop() {
    try {
      setCur(await api('DELETE', '/v1/alerts'));
      setMsg({ text: 'Alerts off: the node sends you no mail.' });
    } catch (e) { setMsg({ error: true, text: e.message }); }
  }

  const on = cur && cur.email;
  return html`<${Screen} title="E-mail alerts">
    <p>Your node can send one e-mail when something new awaits you, or when something you must
      answer falls overdue: at most one mail every ${cur ? cur.interval : '…'}. The mail says only
      that something awaits you and where (this node's address), never what: no type, sender,
      subject or state.</p>
    ${cur && !cur.relay && html`<p class="msg error" role="status">This node sends no e-mail: its
      operator has not set up a mail relay (node.conf <code>smtp_url</code>).</p>`}
    ${cur && html`<form onSubmit=${save} novalidate>
      <div class="field"><label for="alert-email">E-mail address</label>
        <input id="alert-email" name="email" type="email" autocomplete="email" value=${cur.email || ''}
          aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? 'alert-email-err' : undefined}
          disabled=${!cur.relay} />
        ${err && html`<p id="alert-email-err" class="field-error">${err}</p>`}</div>
      <fieldset><legend>Tell me of</legend>
        <label><input name="new" type="checkbox" checked=${on ? cur.new : true} disabled=${!cur.relay} /> new items</label>
        <label><input name="overdue" type="checkbox" checked=${on ? cur.overdue : true} disabled=${!cur.relay} /> overdue items</label>
      </fieldset>
      <button type="submit" disabled=${!cur.relay}>${on ? 'Save' : 'Turn alerts on'}</button>
      ${on && html` <button type="button" onClick=${stop}>Stop alerts</button>`}
    </form>
    <p>${on ? html`Alerts are on, to <strong>${cur.email}</strong>.` : 'Alerts are off.'}</p>`}
    <${Status} msg=${msg} />
  <//>`;
}
