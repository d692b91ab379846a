// inbox.js: #/inbox, awaiting you / awaiting others, overdue then due
// first, filters and search, 50 rows a page; sealed messages show what
// this browser opened of them.

import { useEffect, useState } from 'preact/hooks';
import * as V from '../validate.js';
import { t } from '../i18n.js';
import { api, sealedFields } from '../api.js';
import { html, Time, Screen, Status } from '../ui.js';

function sortItems(items) {
  return [...items].sort((a, b) => (b.overdue - a.overdue) ||
    ((a.due ? Date.parse(a.due) : Infinity) - (b.due ? Date.parse(b.due) : Infinity)));
}

// A cell the node could not fill because the body is sealed: the value
// opened in this browser, marked, or a dash that says why.
function SealedCell({ v }) {
  if (v === undefined) return html`<td><span title=${t('sealed.unknown')}>—</span></td>`;
  return html`<td>${v} <small class="sealed" title=${t('sealed.opened')}>(${t('sealed')})</small></td>`;
}

// A page of PAGE rows at a time: the node sends the whole inbox (no paging
// yet), but rendering a thousand rows takes most of the paint time.
const PAGE = 50;

function Items({ id, caption, items, empty }) {
  const [shown, setShown] = useState(PAGE);
  if (!items.length) return html`<h2 id=${id}>${caption}</h2><p class="empty">${empty}</p>`;
  const rows = sortItems(items);
  return html`<h2 id=${id}>${caption}</h2>
    <div class="table-wrap"><table class="inbox" aria-labelledby=${id}><thead><tr>
      <th scope="col">${t('col.due')}</th><th scope="col">${t('col.message')}</th><th scope="col">${t('col.from')}</th>
      <th scope="col">${t('col.to')}</th><th scope="col">${t('col.state')}</th><th scope="col">${t('col.expects')}</th>
      <th scope="col">${t('col.severity')}</th><th scope="col">${t('col.sector')}</th></tr></thead>
    <tbody>${rows.slice(0, shown).map((it) => html`<tr class=${it.overdue ? 'overdue' : ''}>
      <td>${it.overdue ? html`<strong class="badge">${t('overdue')}</strong> ` : ''}<${Time} t=${it.due} /></td>
      <td><a href=${`#/message/${it.id}`}>${it.type} ${it.id.split('--')[1].slice(0, 8)}</a></td>
      <td>${it.from}</td><td>${it.to}</td><td>${it.state}</td><td>${it.expects || '—'}</td>
      ${it.sealed ? html`<${SealedCell} v=${it.severity} /><${SealedCell} v=${it.sector} />`
        : html`<td>${it.severity || '—'}</td><td>${it.sector || '—'}</td>`}</tr>`)}</tbody></table></div>
    ${rows.length > shown && html`<p><button type="button" onClick=${() => setShown(shown + PAGE)}>
      ${t('inbox.more', { n: Math.min(PAGE, rows.length - shown), shown, total: rows.length })}</button></p>`}`;
}

// The node's items, with what this browser opened of sealed ones: an item
// of a type whose severity is required (notification) or that this
// browser opened sealed, and without a clear severity, is sealed.
function withSealed(items, opened) {
  return items.map((it) => {
    const o = opened[it.id];
    if (o) return { ...it, sealed: true, severity: o.severity, sector: o.sector };
    if (!it.severity && it.type === 'notification') return { ...it, sealed: true, severity: undefined, sector: undefined };
    return it;
  });
}

const STATES = ['sent', 'delivered', 'acknowledged', 'answered', 'declined', 'closed'];

export function Inbox() {
  const [data, setData] = useState(null);
  const [msg, setMsg] = useState(null);
  const [f, setF] = useState({ type: '', state: '', severity: '', sector: '', q: '' });
  useEffect(() => {
    api('GET', '/v1/framework/inbox').then(setData, (e) => setMsg({ error: true, text: e.message }));
  }, []);
  const q = f.q.trim().toLowerCase();
  const keep = (it) => (!f.type || it.type === f.type) && (!f.state || it.state === f.state) &&
    (!f.severity || String(it.severity) === f.severity) && (!f.sector || it.sector === f.sector) &&
    (!q || [it.id, it.from, it.to].some((x) => x && x.toLowerCase().includes(q)));
  const opened = sealedFields();
  const me = data ? withSealed(data.awaiting_me, opened) : [];
  const others = data ? withSealed(data.awaiting_others, opened) : [];
  const set = (k) => (ev) => setF({ ...f, [k]: ev.target.value });
  const sel = (id, k, values) => html`<div class="field"><label for=${id}>${t(`inbox.${k}`)}</label>
    <select id=${id} value=${f[k]} onChange=${set(k)}><option value="">${t('all')}</option>
      ${values.map((x) => html`<option value=${x}>${x}</option>`)}</select></div>`;
  return html`<${Screen} title=${t('inbox.title')}>
    <form class="filters" role="search" aria-label=${t('inbox.filters')} onSubmit=${(e) => e.preventDefault()}>
      ${sel('f-type', 'type', ['notification', 'request', 'ping'])}
      ${sel('f-state', 'state', STATES)}
      ${sel('f-severity', 'severity', ['1', '2', '3', '4', '5'])}
      ${sel('f-sector', 'sector', V.SECTORS)}
      <div class="field"><label for="f-q">${t('inbox.search')}</label>
        <input id="f-q" type="search" value=${f.q} onInput=${set('q')} /></div>
    </form>
    <${Status} msg=${msg} />
    ${data ? html`
      <${Items} id="awaiting-me" caption=${t('inbox.me')} items=${me.filter(keep)}
        empty=${me.length ? t('inbox.nomatch') : t('inbox.empty.me')} />
      <${Items} id="awaiting-others" caption=${t('inbox.others')} items=${others.filter(keep)}
        empty=${others.length ? t('inbox.nomatch') : t('inbox.empty.others')} />` : !msg && html`<p>${t('loading')}</p>`}
  <//>`;
}
