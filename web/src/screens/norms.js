// norms.js: prohibitions and norms (docs/norms.md), read from the node's
// queries; each screen links to the others (a navigation of its own):
//   #/norms                      the norm catalogue: the eleven norms of the
//                                UN GGE 2015 report (13a-13k) and every
//                                entry the secretariat recorded, with its
//                                text, source and versions
//                                (GET /v1/framework/norms)
//   #/norms-declarations/STATE   a state's declarations of protected
//                                infrastructure the viewer may see
//                                (GET /v1/framework/norms/declarations);
//                                a sealed one is fetched (/v1/records/ID, the
//                                re-seal when it was re-sealed to us) and
//                                opened here with the key: the node never
//                                reads it
//   #/norms-reports/PERIOD[/NORM] national implementation reports: the table
//                                of norms (states that reported, needs and
//                                offers counted), then one norm state by
//                                state with its needs matched with offers
//                                (GET /v1/framework/norms/reports)
//   #/norms-positions[/TOPIC]    national positions on international law
//                                compared topic by topic, the delegations,
//                                and your own state's drafts and comments,
//                                opened here (GET /v1/framework/norms/positions)
// Complaints and disclosures are cases: they open and run in the case
// screens (#/case-new/norm-complaint, #/case-new/norm-disclosure).
// Every table scrolls inside a labelled region on a narrow screen.

import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { S, api, readRecord } from '../api.js';
import { go } from '../router.js';
import { html, Time, Screen, Status } from '../ui.js';

const TOPICS = ['sovereignty', 'non-intervention', 'use-of-force', 'peaceful-settlement',
  'due-diligence', 'state-responsibility', 'ihl-distinction', 'ihl-proportionality',
  'ihl-precaution', 'human-rights'];

const list = (a) => (a && a.length ? a.join(', ') : '—');
const counts = (o) => (o && Object.keys(o).length
  ? Object.entries(o).map(([k, n]) => `${k} ${n}`).join(', ') : '—');
const myState = () => (S.party || '').split('.')[0];
const q = encodeURIComponent;

// The norms' own navigation, the current one marked.
function Sub({ at }) {
  const links = [['#/norms', 'norms.nav.catalogue', 'catalogue'],
    [`#/norms-declarations/${myState()}`, 'norms.nav.declarations', 'declarations'],
    [`#/norms-reports/${new Date().getUTCFullYear()}`, 'norms.nav.reports', 'reports'],
    ['#/norms-positions', 'norms.nav.positions', 'positions'],
    ['#/case-new/norm-complaint', 'norms.nav.complain', 'complain'],
    ['#/case-new/norm-disclosure', 'norms.nav.disclose', 'disclose']];
  return html`<nav aria-label=${t('norms.nav.label')} class="subnav"><ul>
    ${links.map(([href, key, name]) => html`<li><a href=${href} aria-current=${at === name ? 'page' : undefined}>${t(key)}</a></li>`)}
  </ul></nav>`;
}

// A table in a region that scrolls on a narrow screen, named for readers.
function Table({ label, head, rows }) {
  return html`<div class="table-wrap" role="region" tabindex="0" aria-label=${label}>
    <table aria-label=${label}><thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
    <tbody>${rows}</tbody></table></div>`;
}

function useGet(path) {
  const [data, setData] = useState(null);
  const [msg, setMsg] = useState(null);
  useEffect(() => {
    setData(null); setMsg(null);
    if (path) api('GET', path).then(setData, (e) => setMsg({ error: true, text: e.message }));
  }, [path]);
  return [data, msg];
}

// ---- the catalogue ---------------------------------------------------------------

export function Norms() {
  const [data, msg] = useGet('/v1/framework/norms');
  return html`<${Screen} title=${t('norms.title')}>
    <${Sub} at="catalogue" />
    <p>${t('norms.help')}</p>
    <${Status} msg=${msg} />
    ${data && data.norms.map((n) => html`<article class="norm" key=${n.norm} aria-labelledby=${`norm-${n.norm}`}>
      <h2 id=${`norm-${n.norm}`}>${n.norm}: ${n.title}</h2>
      <p>${n.text}</p>
      <dl class="body">
        <dt>${t('norms.kind')}</dt><dd>${n.kind}</dd>
        <dt>${t('norms.source')}</dt><dd>${n.source}</dd>
        <dt>${t('norms.version')}</dt><dd>${n.builtin && !n.version ? t('norms.builtin')
          : t('norms.versions', { v: n.version, n: (n.versions || []).length })}</dd>
        ${n.withdrawn && html`<dt>${t('norms.withdrawn')}</dt><dd>${t('norms.yes')}</dd>`}
      </dl></article>`)}
  <//>`;
}

// ---- declarations ------------------------------------------------------------------

// A declaration's body: given by the node (public), or opened here.
function DeclBody({ d }) {
  const [rec, setRec] = useState(null);
  useEffect(() => {
    if (d.body || !d.open_with) return;
    api('GET', `/v1/records/${q(d.open_with)}`).then(readRecord).then(setRec,
      (e) => setRec({ openError: e.message }));
  }, [d.record]);
  const b = d.body || (rec && rec.opened ? rec.body : null);
  if (!b) {
    if (rec && rec.openError) return html`<p class="msg error" role="alert">${t('norms.cannotopen', { why: rec.openError })}</p>`;
    return html`<p>${t('loading')}</p>`;
  }
  return html`${!d.body && html`<p class="meta">${t('norms.opened')}</p>`}
    <dl class="body">
      <dt>${t('norms.valid')}</dt><dd><${Time} t=${b.valid_from} /> – ${b.valid_until ? html`<${Time} t=${b.valid_until} />` : '…'}</dd>
      <dt>${t('norms.sectors')}</dt><dd>${list(b.sectors)}</dd>
      <dt>${t('norms.services')}</dt><dd>${list(b.services)}</dd>
      <dt>${t('norms.certs')}</dt><dd>${list(b.certs)}${b.cert_status ? ` (${b.cert_status})` : ''}</dd>
      ${b.note && html`<dt>${t('norms.note')}</dt><dd>${b.note}</dd>`}
    </dl>`;
}

export function NormsDeclarations({ state }) {
  const st = state || myState();
  const [f, setF] = useState(st);
  const [data, msg] = useGet(`/v1/framework/norms/declarations?state=${q(st)}`);
  return html`<${Screen} title=${t('norms.decl.title', { state: st })}>
    <${Sub} at="declarations" />
    <p>${t('norms.decl.help')}</p>
    <form onSubmit=${(e) => { e.preventDefault(); go(`#/norms-declarations/${f.trim()}`); }}>
      <label for="norms-state">${t('norms.state')}</label>
      <input id="norms-state" value=${f} onInput=${(e) => setF(e.target.value)} autocomplete="off" />
      <button type="submit">${t('norms.show')}</button>
    </form>
    <${Status} msg=${msg} />
    ${data && (data.declarations.length ? data.declarations.map((d) => html`<article class="decl" key=${d.record}
        aria-labelledby=${`decl-${d.record}`}>
      <h2 id=${`decl-${d.record}`}>${t('norms.decl.version', { v: d.version })}${d.current ? ` (${t('norms.current')})` : ''}</h2>
      <p class="meta">${d.visibility === 'public' ? t('norms.vis.public') : d.visibility === 'self' ? t('norms.vis.self') : t('norms.vis.participating')}
        · ${d.author} · <${Time} t=${d.created} />${d.to && d.to.length ? ` · ${t('norms.to')} ${d.to.join(', ')}` : ''}
        ${d.in_force !== null && d.in_force !== undefined ? ` · ${d.in_force ? t('norms.inforce') : t('norms.notinforce')}` : ''}</p>
      <${DeclBody} d=${d} />
      <p class="meta"><code>${d.record}</code></p></article>`)
      : html`<p>${t('norms.decl.none')}</p>`)}
  <//>`;
}

// ---- implementation reports ------------------------------------------------------------

function Overview({ period, data }) {
  if (!data.norms.length) return html`<p>${t('norms.rep.none')}</p>`;
  return html`<h2 id="norms-table">${t('norms.rep.table')}</h2>
    <${Table} label=${t('norms.rep.table')} head=${[t('norms.norm'), t('norms.rep.reported'), t('norms.rep.needs'), t('norms.rep.offers')]}
      rows=${data.norms.map((n) => html`<tr key=${n.norm}>
        <th scope="row"><a href=${`#/norms-reports/${period}/${n.norm}`}>${n.norm}</a></th>
        <td>${n.reported}</td><td>${counts(n.needs)}</td><td>${counts(n.offers)}</td></tr>`)} />
    <h2>${t('norms.rep.topics')}</h2>
    <${Table} label=${t('norms.rep.topics')} head=${[t('norms.rep.topic'), t('norms.rep.needed'), t('norms.rep.offering')]}
      rows=${data.topics.map((x) => html`<tr key=${x.topic}><th scope="row">${x.topic}</th>
        <td>${x.needed}</td><td>${x.offering_states}</td></tr>`)} />`;
}

function OneNorm({ period, norm, data }) {
  const n = data.norms[0];
  if (!n) return html`<p>${t('norms.rep.nonorm', { norm })}</p>`;
  return html`<p><a href=${`#/norms-reports/${period}`}>${t('norms.rep.back')}</a></p>
    <h2>${t('norms.rep.states', { n: n.reported })}</h2>
    <${Table} label=${t('norms.rep.compared', { norm })} head=${[t('norms.state'), t('norms.version'), t('norms.rep.done'),
      t('norms.rep.laws'), t('norms.rep.institutions'), t('norms.rep.needs'), t('norms.rep.offers')]}
      rows=${n.states.map((s) => html`<tr key=${s.state}><th scope="row">${s.state}</th><td>${s.version}</td>
        <td>${s.done}</td><td>${list(s.laws)}</td><td>${list(s.institutions)}</td><td>${list(s.needs)}</td>
        <td>${list(s.offers)}</td></tr>`)} />
    <h2>${t('norms.rep.matched')}</h2>
    <p>${t('norms.rep.matched.help')}</p>
    ${data.needs.length ? html`<${Table} label=${t('norms.rep.matched')} head=${[t('norms.state'), t('norms.rep.topic'),
      t('norms.rep.offeredby'), t('norms.rep.count')]}
      rows=${data.needs.map((d) => html`<tr key=${`${d.state}/${d.topic}`}><th scope="row">${d.state}</th><td>${d.topic}</td>
        <td>${d.offered_by.length ? d.offered_by.map((o) => `${o.state}${o.same_norm ? '' : '*'}`).join(', ') : t('norms.rep.nooffer')}</td>
        <td>${t('norms.rep.offercount', { n: d.offers, same: d.offers_same_norm })}</td></tr>`)} />`
      : html`<p>${t('norms.rep.noneeds')}</p>`}`;
}

export function NormsReports({ arg }) {
  const [period, norm] = (arg || '').split('/');
  const p = period || String(new Date().getUTCFullYear());
  const [f, setF] = useState(p);
  const [data, msg] = useGet(`/v1/framework/norms/reports?period=${q(p)}${norm ? `&norm=${q(norm)}` : ''}`);
  return html`<${Screen} title=${norm ? t('norms.rep.title.norm', { period: p, norm }) : t('norms.rep.title', { period: p })}>
    <${Sub} at="reports" />
    <p>${t('norms.rep.help')}</p>
    <form onSubmit=${(e) => { e.preventDefault(); go(`#/norms-reports/${f.trim()}`); }}>
      <label for="norms-period">${t('norms.period')}</label>
      <input id="norms-period" value=${f} onInput=${(e) => setF(e.target.value)} aria-describedby="norms-period-help" autocomplete="off" />
      <p id="norms-period-help" class="help">${t('norms.period.help')}</p>
      <button type="submit">${t('norms.show')}</button>
    </form>
    <${Status} msg=${msg} />
    ${data && (norm ? html`<${OneNorm} period=${p} norm=${norm} data=${data} />` : html`<${Overview} period=${p} data=${data} />`)}
  <//>`;
}

// ---- national positions ----------------------------------------------------------------

// Your state's drafts and comments: sealed to its offices, opened here.
function Drafts({ drafts }) {
  const [recs, setRecs] = useState({});
  useEffect(() => {
    let live = true;
    (async () => {
      const out = {};
      for (const d of drafts) {
        try { out[d.record] = await readRecord(await api('GET', `/v1/records/${q(d.record)}`)); } catch (e) { out[d.record] = { openError: e.message }; }
      }
      if (live) setRecs(out);
    })();
    return () => { live = false; };
  }, [drafts.map((d) => d.record).join()]);
  if (!drafts.length) return html`<p>${t('norms.pos.nodrafts')}</p>`;
  return html`<p class="meta">${t('norms.opened')}</p><ul>${drafts.map((d) => {
    const r = recs[d.record];
    const b = r && r.opened ? r.body : null;
    return html`<li key=${d.record}><strong>${d.type === 'norm-position-comment' ? t('norms.pos.comment') : t('norms.pos.draft')}</strong>
      ${' '}${d.author}, <${Time} t=${d.created} />${b && b.topic ? ` (${b.topic})` : ''}:
      ${b ? html` <span>${b.text}</span>` : r && r.openError ? html` <span class="field-error">${t('norms.cannotopen', { why: r.openError })}</span>` : ` ${t('loading')}`}</li>`;
  })}</ul>`;
}

export function NormsPositions({ topic }) {
  const [f, setF] = useState(topic || '');
  const [data, msg] = useGet(`/v1/framework/norms/positions${topic ? `?topic=${q(topic)}` : ''}`);
  return html`<${Screen} title=${topic ? t('norms.pos.title.topic', { topic }) : t('norms.pos.title')}>
    <${Sub} at="positions" />
    <p>${t('norms.pos.help')}</p>
    <form onSubmit=${(e) => { e.preventDefault(); go(f ? `#/norms-positions/${f}` : '#/norms-positions'); }}>
      <label for="norms-topic">${t('norms.pos.topic')}</label>
      <select id="norms-topic" value=${f} onChange=${(e) => setF(e.target.value)}>
        <option value="">${t('norms.pos.all')}</option>
        ${TOPICS.map((x) => html`<option value=${x} selected=${x === f}>${x}</option>`)}</select>
      <button type="submit">${t('norms.show')}</button>
    </form>
    <${Status} msg=${msg} />
    ${data && html`${data.topics.length ? data.topics.map((x) => html`<h2 key=${x.topic}>${x.topic}</h2>
      <${Table} label=${t('norms.pos.compared', { topic: x.topic })} head=${[t('norms.state'), t('norms.version'),
        t('norms.pos.text'), t('norms.pos.sources'), t('norms.pos.by')]}
        rows=${x.states.map((s) => html`<tr key=${s.state}><th scope="row">${s.state}</th>
          <td>${t('norms.versions', { v: s.version, n: (s.versions || []).length })}</td><td>${s.text}</td>
          <td>${list(s.sources)}</td><td>${s.author}</td></tr>`)} />`) : html`<p>${t('norms.pos.none')}</p>`}
      <h2>${t('norms.pos.delegations')}</h2>
      ${data.delegations.length ? html`<ul>${data.delegations.map((d) => html`<li key=${d.record}>
        ${t('norms.pos.delegated', { state: d.state, office: d.office })}, <${Time} t=${d.valid_from} /></li>`)}</ul>`
        : html`<p>${t('norms.pos.nodelegations')}</p>`}
      <h2>${t('norms.pos.drafts', { state: myState() })}</h2>
      <${Drafts} drafts=${data.drafts || []} />`}
  <//>`;
}
