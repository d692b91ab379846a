// compose-ping.js: #/compose/ping, a communication check to contacts.

import { useState } from 'preact/hooks';
import * as V from '../validate.js';
import { go } from '../router.js';
import { S, send } from '../api.js';
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
    if (Object.keys(e).length) { setMsg({ error: true, text: `Not sent: ${Object.keys(e).length} field(s) to fix.` }); return; }
    try {
      const r = await send('ping', 'green', to, [], body);
      setMsg({ text: `Sent ping ${r.id} (log index ${r.log_index}).` });
      go(`#/message/${r.id}`);
    } catch (err) { setMsg({ error: true, text: `The node refused it: ${err.message}` }); }
  }
  return html`<${Screen} title="New ping">
    <p>A communication check: each contact named answers with one click; the answers give the response figures.</p>
    <form onSubmit=${submit} novalidate>
      <${Field} id="to" label="To (states or parties, comma-separated)" errs=${errs}>${(a) => html`<input ...${a} autocomplete="off" />`}<//>
      <div class="field check"><input id="f-announced" name="announced" type="checkbox" />
        <label for="f-announced">Announced in advance</label></div>
      <${Field} id="kind" label="Contact kind (optional)" errs=${errs}>${Select('', V.POC_KINDS, 'Any')}<//>
      <${Field} id="round" label="Round (optional)" errs=${errs} help="e.g. 2026-Q4">${(a) => html`<input ...${a} />`}<//>
      <button type="submit">Sign and send</button>
    </form>
    <${Status} msg=${msg} />
  <//>`;
}
