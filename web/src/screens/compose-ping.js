// compose-ping.js: #/compose/ping, a communication check to contacts.

import { useState } from 'preact/hooks';
import * as V from '../validate.js';
import { go } from '../router.js';
import { S, send } from '../api.js';
import { t } from '../i18n.js';
import { html, Screen, Status, Field, Select } from '../ui.js';

export function ComposePing() {
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  async function submit(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const to = f.to.value.trim().split(/[\s,]+/).filter(Boolean);
    const body = { announced: f.announced.checked };
    if (f.kind.value) body.kind = f.kind.value;
    if (f.round.value.trim()) body.round = f.round.value.trim();
    const e = { ...V.checkTo(to, S.party), ...V.checkPing(body) };
    setErrs(e);
    if (Object.keys(e).length) { setMsg({ error: true, text: t('c.fix', { n: Object.keys(e).length }) }); return; }
    try {
      const r = await send('ping', 'green', to, [], body);
      setMsg({ text: t('c.sent', { type: 'ping', id: r.id, index: r.log_index }) });
      go(`#/message/${r.id}`);
    } catch (err) { setMsg({ error: true, text: t('c.refused', { why: err.message }) }); }
  }
  return html`<${Screen} title=${t('ping.title')}>
    <p>${t('ping.help')}</p>
    <form onSubmit=${submit} novalidate>
      <${Field} id="to" label=${t('c.to')} errs=${errs}>${(a) => html`<input ...${a} autocomplete="off" />`}<//>
      <div class="field check"><input id="f-announced" name="announced" type="checkbox" />
        <label for="f-announced">${t('ping.announced')}</label></div>
      <${Field} id="kind" label=${t('ping.kind')} errs=${errs}>${Select('', V.POC_KINDS, t('ping.any'))}<//>
      <${Field} id="round" label=${t('ping.round')} errs=${errs} help=${t('ping.round.help')}>${(a) => html`<input ...${a} />`}<//>
      <button type="submit">${t('c.send')}</button>
    </form>
    <${Status} msg=${msg} />
  <//>`;
}
