// inbox.js: #/inbox, awaiting you / awaiting others, overdue then due
// first, 50 rows a page from the node (paged: ?limit=, after=), the
// filters and the search applied on the node (?type= &state= &severity=
// &sector= &q=: every page and total counts what passes).  The node reads
// only clear fields: a sealed message passes its severity and sector
// filters there (marked "sealed"), and is narrowed here by what this
// browser opened of it (one not opened is left out: its values are
// unknown).

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

// A page of PAGE rows at a time from the node (?limit=PAGE, then after= the
// list's cursor), with the filters.
const PAGE = 50;

function Items({ id, caption, items, empty, loaded, total, more }) {
  const button = more && html`<p><button type="button" onClick=${more}>
      ${t('inbox.more', { n: Math.min(PAGE, total - loaded), shown: loaded, total })}</button></p>`;
  if (!items.length) return html`<h2 id=${id}>${caption}</h2><p class="empty">${empty}</p>${button}`;
  const rows = sortItems(items);
  return html`<h2 id=${id}>${caption}</h2>
    <div class="table-wrap" role="region" tabindex="0" aria-labelledby=${id}><table class="inbox" aria-labelledby=${id}><thead><tr>
      <th scope="col">${t('col.due')}</th><th scope="col">${t('col.message')}</th><th scope="col">${t('col.from')}</th>
      <th scope="col">${t('col.to')}</th><th scope="col">${t('col.state')}</th><th scope="col">${t('col.expects')}</th>
      <th scope="col">${t('col.severity')}</th><th scope="col">${t('col.sector')}</th></tr></thead>
    <tbody>${rows.map((it) => html`<tr class=${it.overdue ? 'overdue' : ''}>
      <td>${it.overdue ? html`<strong class="badge">${t('overdue')}</strong> ` : ''}<${Time} t=${it.due} /></td>
      <td><a href=${`#/message/${it.id}`}>${it.type} ${it.id.split('--')[1].slice(0, 8)}</a></td>
      <td>${it.from}</td><td>${it.to}</td><td>${it.state}</td><td>${it.expects || '—'}</td>
      ${it.sealed ? html`<${SealedCell} v=${it.severity} /><${SealedCell} v=${it.sector} />`
        : html`<td>${it.severity || '—'}</td><td>${it.sector || '—'}</td>`}</tr>`)}</tbody></table></div>
    ${button}`;
}

// The node's items, with what this browser opened of sealed ones (the
// node says which are sealed).
function withSealed(items, opened) {
  return items.map((it) => {
    const o = opened[it.id];
    if (o) return { ...it, sealed: true, severity: o.severity, sector: o.sector };
    if (it.sealed) return { ...it, severity: undefined, sector: undefined };
    return it;
  });
}

// The node's query for the filters f (only those set).
function query(f) {
  const q = [['type', f.type], ['state', f.state], ['severity', f.severity], ['sector', f.sector], ['q', f.q.trim()]]
    .filter(([, v]) => v).map(([k, v]) => `&${k}=${encodeURIComponent(v)}`);
  return q.join('');
}

const STATES = ['sent', 'delivered', 'acknowledged', 'answered', 'declined', 'closed'];

export function Inbox() {
  const [data, setData] = useState(null);
  const [msg, setMsg] = useState(null);
  const [f, setF] = useState({ type: '', state: '', severity: '', sector: '', q: '' });
  const qs = query(f);
  // the first page with the filters, again when they change (the search:
  // once typing pauses); a late answer to older filters is dropped
  useEffect(() => {
    let live = true;
    const timer = setTimeout(() => {
      api('GET', `/v1/framework/inbox?limit=${PAGE}${qs}`).then((d) => { if (live) { setData(d); setMsg(null); } },
        (e) => live && setMsg({ error: true, text: e.message }));
    }, data ? 250 : 0);
    return () => { live = false; clearTimeout(timer); };
  }, [qs]);
  // the next page of one list ('me' or 'others'), after its cursor
  const more = (box) => data && data[`next_${box}`] && (() =>
    api('GET', `/v1/framework/inbox?limit=${PAGE}${qs}&after=${encodeURIComponent(data[`next_${box}`])}`).then(
      (p) => setData((d) => ({ ...d, [`awaiting_${box}`]: [...d[`awaiting_${box}`], ...p[`awaiting_${box}`]],
        [`next_${box}`]: p[`next_${box}`], [`total_${box}`]: p[`total_${box}`] })),
      (e) => setMsg({ error: true, text: e.message })));
  // the node applied every filter; sealed items passed severity and
  // sector there, unknown: narrowed here by what this browser opened
  const keep = (it) => !it.sealed || ((!f.severity || String(it.severity) === f.severity) &&
    (!f.sector || it.sector === f.sector));
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
        empty=${me.length || qs ? t('inbox.nomatch') : t('inbox.empty.me')}
        loaded=${me.length} total=${data.total_me} more=${more('me')} />
      <${Items} id="awaiting-others" caption=${t('inbox.others')} items=${others.filter(keep)}
        empty=${others.length || qs ? t('inbox.nomatch') : t('inbox.empty.others')}
        loaded=${others.length} total=${data.total_others} more=${more('others')} />` : !msg && html`<p>${t('loading')}</p>`}
  <//>`;
}
