// spyware.js: the commercial spyware registry (docs/spyware.md).
//   #/spyware           search the registry by any name or synonym
//                       (GET /v1/framework/spyware/vendors?name=), compared
//                       after the registry's normalisation; a name several
//                       vendors bear lists them all
//   #/spyware-vendor/ID a vendor's page: products, listings, the licences
//                       published in clear, and every version with its
//                       author (GET /v1/framework/spyware/vendors/ID)
//   #/spyware-report    the public transparency report (GET
//                       /v1/framework/spyware/report?state=&year=): each
//                       figure opens onto the records it counts, each with
//                       its record and receipt
// The node answers from public records only.  A vendor's page adds what
// this browser can open with the logged-in key: the licences sealed to
// the viewer's party that name the vendor, and the viewer's misuse cases
// about it (their openings, sealed to the parties); nothing opened here is
// sent anywhere.  A misuse case opens through the case screens
// (#/case-new/spyware-misuse) and is viewed there (#/case/ID).

import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api, readRecord, S } from '../api.js';
import { html, Time, Screen, Status } from '../ui.js';

// The registry's name normalisation (comity_spyware_normalise): ASCII
// letters lowered, every other ASCII byte dropped, the rest kept.
const norm = (s) => Array.from(String(s || '')).filter((c) => c.charCodeAt(0) > 127 || /[A-Za-z0-9]/.test(c))
  .map((c) => c.toLowerCase()).join('');

const list = (a) => (a && a.length ? a.join(', ') : '—');

function Listings({ v }) {
  if (!v.listings || !v.listings.length) return html`<p>${t('spyware.nolistings')}</p>`;
  return html`<ul>${v.listings.map((l) => html`<li>
    ${t('spyware.listed', { by: l.body.listed_by, regime: l.body.regime, entity: l.body.entity })}${' '}
    <${Time} t=${l.body.date} />: ${l.body.reason} (${l.body.legal_basis})${' '}
    <a href=${`/v1/records/${l.id}`}>${l.id}</a></li>`)}</ul>`;
}

function Summary({ v }) {
  return html`<article class="vendor">
    <h2><a href=${`#/spyware-vendor/${v.id}`}>${v.name}</a></h2>
    <dl class="body">
      <dt>${t('spyware.synonyms')}</dt><dd>${list(v.synonyms)}</dd>
      <dt>${t('spyware.products')}</dt><dd>${list(v.products)}</dd>
      <dt>${t('spyware.listings')}</dt><dd>${v.listings && v.listings.length
        ? v.listings.map((l) => `${l.body.listed_by} (${l.body.regime})`).join(', ') : '—'}</dd>
      <dt>${t('spyware.made')}</dt><dd>${v.created_by}, <${Time} t=${v.created} /></dd>
      <dt>${t('spyware.changed')}</dt><dd>${v.updated_by}, <${Time} t=${v.updated} />
        (${t('spyware.versions', { n: v.versions })})</dd>
    </dl></article>`;
}

export function Spyware() {
  const [q, setQ] = useState('');
  const [res, setRes] = useState(null);
  const [msg, setMsg] = useState(null);
  async function search(ev) {
    ev.preventDefault();
    setMsg(null);
    try {
      setRes(await api('GET', `/v1/framework/spyware/vendors?name=${encodeURIComponent(q)}`));
    } catch (e) { setRes(null); setMsg({ error: true, text: e.message }); }
  }
  return html`<${Screen} title=${t('spyware.title')}>
    <p>${t('spyware.help')}</p>
    <form role="search" onSubmit=${search}>
      <label for="spyware-q">${t('spyware.search')}</label>
      <input id="spyware-q" type="search" value=${q} onInput=${(e) => setQ(e.target.value)} />
      <button type="submit">${t('spyware.find')}</button>
    </form>
    <p><a href="#/case-new/spyware-misuse">${t('case.new.spyware-misuse')}</a>
      · <a href="#/spyware-report">${t('spyware.report.title')}</a></p>
    <${Status} msg=${msg} />
    ${res && html`<p role="status">${t('spyware.found', { n: res.vendors.length, norm: res.normalised })}</p>
      ${res.vendors.map((v) => html`<${Summary} v=${v} key=${v.id} />`)}`}
  <//>`;
}

// Whether a body's `vendor` (an id, or a name) names vendor v.
function names(v, ref) {
  if (!ref) return false;
  if (ref === v.id) return true;
  const n = norm(ref);
  return [v.name, ...(v.synonyms || [])].some((x) => norm(x) === n);
}

// The licences sealed to this party that name v, and this party's misuse
// cases about v: opened here with the session's key.  The node's listing
// of the licences this party may see (GET /v1/records?type=, a page at
// most 1,000 records or 4 MiB) is read page after page, to its end.
async function visibleTo(v) {
  const lic = [], cases = [];
  for (let cursor = null; ;) {
    const q = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await api('GET', `/v1/records?type=spyware-licence&limit=1000${q}`);
    for (const row of page.records || []) {
      if (row.tlp === 'clear' || row.tlp === 'green') continue; /* on the public list */
      const r = await readRecord(row.envelope);
      if (r.opened && names(v, r.body.vendor)) lic.push({ id: r.payload.id, author: r.payload.author, body: r.body });
    }
    if (!page.more || !page.next) break;
    cursor = page.next;
  }
  const mine = await api('GET', '/v1/framework/cases');
  for (const c of (mine.cases || []).filter((x) => x.mechanism === 'spyware-misuse')) {
    const r = await readRecord(await api('GET', `/v1/records/${encodeURIComponent(c.id)}`));
    if (r.body && names(v, r.body.vendor)) cases.push({ id: c.id, state: c.state, body: r.body });
  }
  return { lic, cases };
}

const DECISIONS = { granted: () => t('spyware.decision.granted'), denied: () => t('spyware.decision.denied') };

function Licence({ l, sealed }) {
  const d = DECISIONS[l.body.decision];
  return html`<li>${l.author}: ${d ? d() : l.body.decision} ${l.body.product}
    → ${l.body.end_user} (${l.body.destination}), <${Time} t=${l.body.date} />${' '}
    (${l.body.category})${sealed ? html`${' '}<em>${t('spyware.sealedtoyou')}</em>` : ''}</li>`;
}

export function SpywareVendor({ id }) {
  const [v, setV] = useState(null);
  const [mine, setMine] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    api('GET', `/v1/framework/spyware/vendors/${encodeURIComponent(id)}`).then((x) => {
      setV(x);
      return visibleTo(x).then(setMine);
    }).catch((e) => setMsg({ error: true, text: e.message }));
  }, [id]);
  return html`<${Screen} title=${v ? v.name : t('loading')}>
    <${Status} msg=${msg} />
    ${v && html`<${Summary} v=${v} />
      ${v.description && html`<p>${v.description}</p>`}
      <h2>${t('spyware.listings')}</h2><${Listings} v=${v} />
      <h2>${t('spyware.licences')}</h2>
      ${v.licences.length ? html`<ul>${v.licences.map((l) => html`<${Licence} l=${l} key=${l.id} />`)}</ul>`
        : html`<p>${t('spyware.nolicences')}</p>`}
      <h2>${t('spyware.mylicences', { party: S.party })}</h2>
      ${!mine ? html`<p>${t('loading')}</p>` : mine.lic.length
        ? html`<ul class="sealed-licences">${mine.lic.map((l) => html`<${Licence} l=${l} sealed=${true} key=${l.id} />`)}</ul>`
        : html`<p>${t('spyware.nomylicences')}</p>`}
      <h2>${t('spyware.cases')}</h2>
      ${!mine ? html`<p>${t('loading')}</p>` : mine.cases.length
        ? html`<ul>${mine.cases.map((c) => html`<li><a href=${`#/case/${c.id}`}>${c.body.product || c.body.vendor}</a>:
            ${c.body.sector}, ${c.body.target_kind} (${c.state})</li>`)}</ul>`
        : html`<p>${t('spyware.nocases')}</p>`}
      <h2>${t('spyware.history')}</h2>
      <ol>${v.history.map((h) => html`<li><${Time} t=${h.created} /> ${h.author}: ${h.body.name}
        ${h.body.reason ? ` (${h.body.reason})` : ''} <code>${h.id}</code></li>`)}</ol>`}
  <//>`;
}

// A record id as a table shows it: its type and the start of its UUID.
const short = (id) => { const [ty, u] = String(id).split('--'); return u ? `${ty}--${u.slice(0, 8)}…` : id; };

// One figure: its count, and the records it counts behind a disclosure.
function Figure({ f, label }) {
  if (!f || !f.count) return html`<td>0</td>`;
  return html`<td><details><summary aria-label=${`${label}: ${f.count}`}>${f.count}</summary>
    <ul>${f.records.map((id) => html`<li><a href=${`/v1/records/${id}`} title=${id}>${short(id)}</a>${' '}
      (<a href=${`/v1/records/${id}/receipt`} aria-label=${`${t('spyware.receipt')} ${id}`}>${t('spyware.receipt')}</a>)</li>`)}</ul></details></td>`;
}

export function SpywareReport() {
  const [year, setYear] = useState(String(new Date().getUTCFullYear()));
  const [state, setState] = useState('');
  const [rep, setRep] = useState(null);
  const [msg, setMsg] = useState(null);
  async function load(ev) {
    if (ev) ev.preventDefault();
    setMsg(null);
    const q = [year && `year=${encodeURIComponent(year)}`, state && `state=${encodeURIComponent(state)}`]
      .filter(Boolean).join('&');
    try { setRep(await api('GET', `/v1/framework/spyware/report${q ? `?${q}` : ''}`)); } catch (e) {
      setRep(null); setMsg({ error: true, text: e.message });
    }
  }
  useEffect(() => { load(); }, []);
  const cols = [t('spyware.report.granted'), t('spyware.report.denied'), t('spyware.report.listings'),
    t('spyware.report.opened'), t('spyware.report.closed')];
  return html`<${Screen} title=${t('spyware.report.title')}>
    <p>${t('spyware.report.help')}</p>
    <form onSubmit=${load} class="filters">
      <label for="spy-year">${t('spyware.report.year')}</label>
      <input id="spy-year" inputmode="numeric" pattern="[0-9]{4}" value=${year} onInput=${(e) => setYear(e.target.value)} />
      <label for="spy-state">${t('spyware.report.state')}</label>
      <input id="spy-state" value=${state} onInput=${(e) => setState(e.target.value)} />
      <button type="submit">${t('spyware.report.show')}</button>
    </form>
    <${Status} msg=${msg} />
    ${rep && html`<p role="status">${t('spyware.report.counted', { n: rep.records_counted })}</p>
      <div class="scroll" role="region" aria-label=${t('spyware.report.figures')} tabindex="0"><table>
        <thead><tr><th scope="col">${t('spyware.report.state')}</th><th scope="col">${t('spyware.report.year')}</th>
          ${cols.map((c) => html`<th scope="col">${c}</th>`)}</tr></thead>
        <tbody>${rep.groups.map((g) => html`<tr key=${`${g.state} ${g.year}`}>
          <th scope="row">${g.state}</th><td>${g.year}</td>
          ${[g.licences.granted, g.licences.denied, g.listings, g.misuse_cases.opened, g.misuse_cases.closed]
            .map((f, i) => html`<${Figure} f=${f} label=${`${g.state} ${g.year} ${cols[i]}`} />`)}
        </tr>`)}</tbody></table></div>`}
  <//>`;
}
