// alerts.js: the e-mail alerts screen (#/alerts): whether the node tells
// this party by e-mail that something new awaits it or that something it
// must answer fell overdue.  GET, PUT and DELETE /v1/alerts, as
// `comity alerts` does; the node checks the address and keeps the choice
// (src/node/alerts.c).  The mail says only that something awaits and
// where, never what: the screen says so.
//
// app.js hands in what every screen uses (api, Screen, Status), so this
// file imports nothing of app.js.  Text from the catalogs (alerts.*).
import { h } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import htm from 'htm';
import { t } from './i18n.js';

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
      setErr(t('alerts.email.bad'));
      f.email.focus();
      return;
    }
    if (!f.new.checked && !f.overdue.checked) {
      setMsg({ error: true, text: t('alerts.neither') });
      return;
    }
    try {
      setCur(await api('PUT', '/v1/alerts', { email, new: f.new.checked, overdue: f.overdue.checked }));
      setMsg({ text: t('alerts.on.sent', { email }) });
    } catch (e) {
      if (e.status === 400 && /email/.test(e.message)) { setErr(e.message); f.email.focus(); }
      else setMsg({ error: true, text: e.message });
    }
  }

  async function stop() {
    try {
      setCur(await api('DELETE', '/v1/alerts'));
      setMsg({ text: t('alerts.off.sent') });
    } catch (e) { setMsg({ error: true, text: e.message }); }
  }

  const on = cur && cur.email;
  return html`<${Screen} title=${t('alerts.title')}>
    <p>${t('alerts.help', { interval: cur ? cur.interval : '…' })}</p>
    ${cur && !cur.relay && html`<p class="msg error" role="status">${t('alerts.norelay')} <code>smtp_url</code>).</p>`}
    ${cur && html`<form onSubmit=${save} novalidate>
      <div class="field"><label for="alert-email">${t('alerts.email')}</label>
        <input id="alert-email" name="email" type="email" autocomplete="email" value=${cur.email || ''}
          aria-invalid=${err ? 'true' : 'false'} aria-describedby=${err ? 'alert-email-err' : undefined}
          disabled=${!cur.relay} />
        ${err && html`<p id="alert-email-err" class="field-error">${err}</p>`}</div>
      <fieldset><legend>${t('alerts.tell')}</legend>
        <label><input name="new" type="checkbox" checked=${on ? cur.new : true} disabled=${!cur.relay} /> ${t('alerts.new')}</label>
        <label><input name="overdue" type="checkbox" checked=${on ? cur.overdue : true} disabled=${!cur.relay} /> ${t('alerts.overdue')}</label>
      </fieldset>
      <button type="submit" disabled=${!cur.relay}>${on ? t('alerts.save') : t('alerts.turnon')}</button>
      ${on && html` <button type="button" onClick=${stop}>${t('alerts.stop')}</button>`}
    </form>
    <p>${on ? html`${t('alerts.areon')} <strong>${cur.email}</strong>.` : t('alerts.areoff')}</p>`}
    <${Status} msg=${msg} />
  <//>`;
}
