// directory.js: #/directory, every state's current contacts; your
// state's offices nominate, update and withdraw theirs (signed poc records).

import { useEffect, useState } from 'preact/hooks';
import * as V from '../validate.js';
import { S, api, send } from '../api.js';
import { html, Screen, Status, Field, Select } from '../ui.js';

function PocForm({ done }) {
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  const state = S.party.split('.')[0];
  async function submit(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const v = (n) => f[n].value.trim() || undefined;
    const body = {
      kind: v('kind'), organisation: v('organisation'), name: v('name'), title: v('title'),
      channels: (f.channels.value || '').split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
        const i = l.indexOf(':');
        return i < 0 ? { type: l, value: '' } : { type: l.slice(0, i).trim(), value: l.slice(i + 1).trim() };
      }),
      time_zone: v('time_zone'),
      languages: (f.languages.value || '').split(/[\s,]+/).filter(Boolean),
      party: v('party'),
      valid_from: new Date().toISOString(),
    };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const e = V.checkPoc(body);
    setErrs(e);
    if (Object.keys(e).length) { setMsg({ error: true, text: `Not sent: ${Object.keys(e).length} field(s) to fix.` }); return; }
    try {
      const r = await send('poc', 'green', [], [], body);
      setMsg({ text: `Contact published (log index ${r.log_index}).` });
      ev.target.reset();
      done();
    } catch (err) { setMsg({ error: true, text: `The node refused it: ${err.message}` }); }
  }
  return html`<h2>Nominate or update a contact of ${state}</h2>
    <p>A signed poc record, readable by every party (TLP:GREEN). It replaces your state's current contact of that kind.</p>
    <form onSubmit=${submit} novalidate>
      <${Field} id="kind" label="Contact kind" errs=${errs}>${Select('', V.POC_KINDS, 'Choose…')}<//>
      <${Field} id="organisation" label="Organisation" errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="name" label="Name (optional)" errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="title" label="Title (optional)" errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="channels" label="Channels, one a line (type:value)" errs=${errs}
        help="email:soc@example.gov, phone:+33 1 23 45 67 89, url:https://..., comity:fr.anssi">
        ${(a) => html`<textarea ...${a} rows="3"></textarea>`}<//>
      <${Field} id="time_zone" label="Time zone" errs=${errs} help="UTC or Area/Location, e.g. Europe/Paris">${(a) => html`<input ...${a} />`}<//>
      <${Field} id="languages" label="Languages" errs=${errs} help="e.g. en, fr">${(a) => html`<input ...${a} />`}<//>
      <${Field} id="party" label="The contact's comity party (optional)" errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <button type="submit">Sign and publish</button>
    </form>
    <${Status} msg=${msg} />`;
}

export function Directory() {
  const [data, setData] = useState(null);
  const [msg, setMsg] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    api('GET', '/v1/directory').then(setData, (e) => setMsg({ error: true, text: e.message }));
  }, [tick]);
  const mine = S.party.split('.')[0];
  async function withdraw(kind) {
    try {
      const r = await send('poc', 'green', [], [], { state: mine, kind, withdrawn: true });
      setMsg({ text: `Withdrew the ${kind} contact of ${mine} (log index ${r.log_index}).` });
      setTick(tick + 1);
    } catch (e) { setMsg({ error: true, text: `Not withdrawn: ${e.message}` }); }
  }
  const rows = data ? data.entries.filter((e) => e.current) : [];
  return html`<${Screen} title="Directory">
    <${Status} msg=${msg} />
    ${data && (rows.length ? html`<div class="table-wrap" role="region" aria-label="Points of contact" tabindex="0"><table><thead><tr>
        <th scope="col">State</th><th scope="col">Kind</th><th scope="col">Organisation</th>
        <th scope="col">Contact</th><th scope="col">Channels</th><th scope="col">Time zone</th>
        <th scope="col">Languages</th><th scope="col">Changes</th><th scope="col">Action</th></tr></thead>
      <tbody>${rows.map((e) => { const b = e.current.body; return html`<tr>
        <td>${e.state}</td><td>${e.kind}</td><td>${b.organisation}</td>
        <td>${[b.name, b.title].filter(Boolean).join(', ') || '—'}</td>
        <td><ul class="plain">${(b.channels || []).map((c) => html`<li>${c.type}: ${c.value}</li>`)}</ul></td>
        <td>${b.time_zone}</td><td>${(b.languages || []).join(', ')}</td>
        <td>${e.history.length}</td>
        <td>${e.state === mine ? html`<button type="button" onClick=${() => withdraw(e.kind)}
          aria-label=${`Withdraw the ${e.kind} contact of ${e.state}`}>Withdraw</button>` : '—'}</td></tr>`; })}</tbody></table></div>`
      : html`<p class="empty">No state has registered a contact yet.</p>`)}
    <${PocForm} done=${() => setTick(tick + 1)} />
  <//>`;
}
