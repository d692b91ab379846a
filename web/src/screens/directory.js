// directory.js: #/directory, every state's current contacts; the history
// of changes per state (every poc record the node holds, from
// GET /v1/directory's `history`: nominations, updates with what changed,
// withdrawals); and for your state's offices nominating, updating and
// withdrawing its contacts (signed poc records, TLP:GREEN).

import { useEffect, useState } from 'preact/hooks';
import * as V from '../validate.js';
import { t } from '../i18n.js';
import { S, api, send } from '../api.js';
import { html, Time, Screen, Status, Field, Select } from '../ui.js';

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
      valid_from: v('valid_from') || new Date().toISOString(),
      valid_until: v('valid_until'),
    };
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const e = V.checkPoc(body);
    setErrs(e);
    if (Object.keys(e).length) { setMsg({ error: true, text: t('c.fix', { n: Object.keys(e).length }) }); return; }
    try {
      const r = await send('poc', 'green', [], [], body);
      setMsg({ text: t('dir.published', { index: r.log_index }) });
      ev.target.reset();
      done();
    } catch (err) { setMsg({ error: true, text: t('c.refused', { why: err.message }) }); }
  }
  return html`<h2>${t('dir.nominate', { state })}</h2>
    <p>${t('dir.nominate.help')}</p>
    <form onSubmit=${submit} novalidate>
      <${Field} id="kind" label=${t('dir.kind')} errs=${errs}>${Select('', V.POC_KINDS, t('c.choose'))}<//>
      <${Field} id="organisation" label=${t('dir.org')} errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="name" label=${t('dir.name')} errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="title" label=${t('dir.ptitle')} errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="channels" label=${t('dir.channels')} errs=${errs} help=${t('dir.channels.help')}>
        ${(a) => html`<textarea ...${a} rows="3"></textarea>`}<//>
      <${Field} id="time_zone" label=${t('dir.tz')} errs=${errs} help=${t('dir.tz.help')}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="languages" label=${t('dir.langs')} errs=${errs} help=${t('dir.langs.help')}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="party" label=${t('dir.party')} errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="valid_from" label=${t('dir.valid.from')} errs=${errs} help=${t('dir.valid.from.help')}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="valid_until" label=${t('dir.valid.until')} errs=${errs} help=${t('dir.valid.until.help')}>${(a) => html`<input ...${a} />`}<//>
      <button type="submit">${t('dir.publish')}</button>
    </form>
    <${Status} msg=${msg} />`;
}

const POC_FIELDS = ['organisation', 'name', 'title', 'channels', 'time_zone', 'languages', 'party', 'valid_from', 'valid_until'];

// What one poc record did, next to the one before it of the same kind:
// nominated, updated (with the fields that changed), or withdrawn.
function change(prev, cur) {
  const b = cur.body || {};
  if (b.withdrawn) return { what: 'withdrawn', fields: [] };
  if (!prev || (prev.body || {}).withdrawn) return { what: 'nominated', fields: [] };
  const p = prev.body || {};
  return { what: 'updated', fields: POC_FIELDS.filter((k) => JSON.stringify(p[k]) !== JSON.stringify(b[k]) && k !== 'valid_from') };
}

// Every change of one state's contacts (or every state's), newest first.
function History({ entries, states }) {
  const [state, setState] = useState('');
  const items = [];
  for (const e of entries) {
    if (state && e.state !== state) continue;
    e.history.forEach((h, i) => items.push({ e, h, c: change(e.history[i - 1], h) }));
  }
  items.sort((x, y) => Date.parse(y.h.created) - Date.parse(x.h.created));
  return html`<h2 id="dir-history">${t('dir.history')}</h2>
    <div class="field"><label for="dir-state">${t('dir.state')}</label>
      <select id="dir-state" value=${state} onChange=${(ev) => setState(ev.target.value)}>
        <option value="">${t('all')}</option>${states.map((s) => html`<option value=${s}>${s}</option>`)}</select></div>
    ${items.length ? html`<div class="table-wrap" role="region" tabindex="0" aria-labelledby="dir-history"><table aria-labelledby="dir-history"><thead><tr>
      <th scope="col">${t('dir.when')}</th><th scope="col">${t('dir.col.state')}</th><th scope="col">${t('dir.kind')}</th>
      <th scope="col">${t('dir.change')}</th><th scope="col">${t('dir.by')}</th></tr></thead>
      <tbody>${items.map(({ e, h, c }) => html`<tr><td><${Time} t=${h.created} /></td><td>${e.state}</td><td>${e.kind}</td>
        <td>${t(`dir.${c.what}`)}${c.what === 'nominated' ? `: ${(h.body || {}).organisation || ''}` : ''}${c.fields.length ? `: ${c.fields.join(', ')}` : ''}</td>
        <td>${h.author}</td></tr>`)}</tbody></table></div>`
      : html`<p class="empty">${t('dir.nohistory')}</p>`}`;
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
      setMsg({ text: t('dir.withdrew', { kind, state: mine, index: r.log_index }) });
      setTick(tick + 1);
    } catch (e) { setMsg({ error: true, text: t('dir.notwithdrawn', { why: e.message }) }); }
  }
  const rows = data ? data.entries.filter((e) => e.current) : [];
  const states = data ? [...new Set(data.entries.map((e) => e.state))].sort() : [];
  return html`<${Screen} title=${t('dir.title')}>
    <${Status} msg=${msg} />
    ${data && (rows.length ? html`<div class="table-wrap" role="region" aria-label=${t('dir.caption')} tabindex="0"><table><thead><tr>
        <th scope="col">${t('dir.col.state')}</th><th scope="col">${t('dir.kind')}</th><th scope="col">${t('dir.org')}</th>
        <th scope="col">${t('dir.col.contact')}</th><th scope="col">${t('dir.col.channels')}</th><th scope="col">${t('dir.tz')}</th>
        <th scope="col">${t('dir.langs')}</th><th scope="col">${t('dir.col.changes')}</th><th scope="col">${t('dir.col.action')}</th></tr></thead>
      <tbody>${rows.map((e) => { const b = e.current.body; return html`<tr>
        <td>${e.state}</td><td>${e.kind}</td><td>${b.organisation}</td>
        <td>${[b.name, b.title].filter(Boolean).join(', ') || '—'}</td>
        <td><ul class="plain">${(b.channels || []).map((c) => html`<li>${c.type}: ${c.value}</li>`)}</ul></td>
        <td>${b.time_zone}</td><td>${(b.languages || []).join(', ')}</td>
        <td>${e.history.length}</td>
        <td>${e.state === mine ? html`<button type="button" onClick=${() => withdraw(e.kind)}
          aria-label=${t('dir.withdraw.label', { kind: e.kind, state: e.state })}>${t('dir.withdraw')}</button>` : '—'}</td></tr>`; })}</tbody></table></div>`
      : html`<p class="empty">${t('dir.empty')}</p>`)}
    ${data && html`<${History} entries=${data.entries} states=${states} />`}
    <${PocForm} done=${() => setTick(tick + 1)} />
  <//>`;
}
