// spyware.js: the commercial spyware registry (docs/spyware.md).
//   #/spyware           search the registry by any name or synonym
//                       (GET /v1/framework/spyware/vendors?name=), compared
//                       after the registry's normalisation; a name several
//                       vendors bear lists them all
//   #/spyware-vendor/ID a vendor's page: products, listings, the licences
//                       published in clear, and every version with its
//                       author (GET /v1/framework/spyware/vendors/ID)
// The node answers from public records only; licences and notices sealed
// to a state are read by its own client (`comity spyware licence`,
// `comity spyware misuse check`).  A misuse case opens through the case
// screens (#/case-new/spyware-misuse).

import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { api } from '../api.js';
import { html, Time, Screen, Status } from '../ui.js';

const list = (a) => (a && a.length ? a.join(', ') : '—');

function Listings({ v }) {
  if (!v.listings || !v.listings.length) return html`<p>${t('spyware.nolistings')}</p>`;
  return html`<ul>${v.listings.map((l) => html`<li>
    ${t('spyware.listed', { by: l.body.listed_by, regime: l.body.regime, entity: l.body.entity })}
    <${Time} t=${l.body.date} />: ${l.body.reason} (${l.body.legal_basis})
    <a href=${`#/log`}>${l.id}</a></li>`)}</ul>`;
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
    <p><a href="#/case-new/spyware-misuse">${t('case.new.spyware-misuse')}</a></p>
    <${Status} msg=${msg} />
    ${res && html`<p role="status">${t('spyware.found', { n: res.vendors.length, norm: res.normalised })}</p>
      ${res.vendors.map((v) => html`<${Summary} v=${v} key=${v.id} />`)}`}
  <//>`;
}

export function SpywareVendor({ id }) {
  const [v, setV] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    api('GET', `/v1/framework/spyware/vendors/${encodeURIComponent(id)}`).then(setV,
      (e) => setMsg({ error: true, text: e.message }));
  }, [id]);
  return html`<${Screen} title=${v ? v.name : t('loading')}>
    <${Status} msg=${msg} />
    ${v && html`<${Summary} v=${v} />
      ${v.description && html`<p>${v.description}</p>`}
      <h2>${t('spyware.listings')}</h2><${Listings} v=${v} />
      <h2>${t('spyware.licences')}</h2>
      ${v.licences.length ? html`<ul>${v.licences.map((l) => html`<li>${l.author}: ${l.body.decision}
        ${l.body.product} → ${l.body.end_user} (${l.body.destination}), <${Time} t=${l.body.date} /></li>`)}</ul>`
        : html`<p>${t('spyware.nolicences')}</p>`}
      <h2>${t('spyware.history')}</h2>
      <ol>${v.history.map((h) => html`<li><${Time} t=${h.created} /> ${h.author}: ${h.body.name}
        ${h.body.reason ? ` (${h.body.reason})` : ''} <code>${h.id}</code></li>`)}</ol>`}
  <//>`;
}
