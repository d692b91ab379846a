// attribution-graph.js: the graph of an attribution case (docs/attribution.md,
// "The web UI"): its incidents, its evidence items, the indicators they
// carry, the actors and states its claims name, and the other reports that
// share infrastructure with it.  A chunk of its own (cytoscape is large):
// attribution.js imports it only when the graph is opened, as app.js does
// the pings charts.
//
// Which other reports share infrastructure is correlated where the case is
// opened: the evidence bodies, opened in this browser, give their
// observable values (STIX cyber observables and the `=` comparisons of
// indicator patterns: a plain reading, no pattern logic), and each item's
// values are looked up in the node's index (POST
// /v1/framework/correlation/lookup), which normalises them, folds
// subdomains and ranges as the sweep does, and answers only with the
// reports this party may see (src/correlate, docs/correlation.md).  The
// bodies never leave the browser; the values go to the party's own node.
// The case's own records are left out of the answer.

import cytoscape from 'cytoscape';
import { t } from '../i18n.js';
import { api } from '../api.js';

const short = (id) => (id.split('--')[1] || id).slice(0, 8);
const OBSERVABLE = { 'domain-name': 'domain', 'ipv4-addr': 'ipv4', 'ipv6-addr': 'ipv6', url: 'url', 'email-addr': 'email' };
const HASH = { MD5: 'md5', SHA1: 'sha1', SHA256: 'sha256' };
const LOOKUP_MAX = 10000; // the node's cap on one lookup (CY_CORR_LOOKUP_MAX)

// The observable values of one evidence body's STIX objects, as
// {type, value} for the node's lookup (kinds it knows; duplicates once).
export function evidenceValues(body) {
  const out = new Map();
  const put = (type, value) => { if (typeof value === 'string' && value) out.set(`${type} ${value}`, { type, value }); };
  const hashes = (prefix, h) => {
    for (const [algo, v] of Object.entries(h || {})) {
      const k = HASH[algo.toUpperCase().replace(/-/g, '')];
      if (k) put(prefix + k, v);
    }
  };
  for (const o of (body && Array.isArray(body.stix) ? body.stix : [])) {
    if (!o || typeof o !== 'object') continue;
    if (OBSERVABLE[o.type]) put(OBSERVABLE[o.type], o.value);
    if (o.type === 'file') hashes('', o.hashes);
    if (o.type === 'x509-certificate') hashes('x509-', o.hashes);
    if (o.type === 'indicator' && typeof o.pattern === 'string') {
      for (const m of o.pattern.matchAll(/\b(domain-name|ipv4-addr|ipv6-addr|url|email-addr):value\s*=\s*'((?:[^'\\]|\\.)*)'/g))
        put(OBSERVABLE[m[1]], m[2].replace(/\\(.)/g, '$1'));
      for (const m of o.pattern.matchAll(/\b(file|x509-certificate):hashes\.(?:'([^']+)'|([A-Za-z0-9-]+))\s*=\s*'([0-9A-Fa-f:]+)'/g)) {
        const k = HASH[(m[2] || m[3]).toUpperCase().replace(/-/g, '')];
        if (k) put((m[1] === 'file' ? '' : 'x509-') + k, m[4]);
      }
    }
  }
  return [...out.values()];
}

// The shared infrastructure of the case: [{type, value, in: [evidence ids],
// holders: [{id, kind, author, state, value}]}] (other reports only), and
// the common values.  Looks each evidence item's values up in the node.
export async function sharedInfrastructure(c, items) {
  const own = new Set([c.id, ...c.thread.map((e) => e.id), ...((c.facts && c.facts.about) || [])]);
  const byValue = new Map();
  const common = new Map();
  for (const ev of items.evidence) {
    const values = evidenceValues(ev.body).slice(0, LOOKUP_MAX);
    if (!values.length) continue;
    const r = await api('POST', '/v1/framework/correlation/lookup', { values });
    for (const s of r.shared || []) {
      const key = `${s.type} ${s.value}`;
      const holders = (s.holders || []).filter((h) => !own.has(h.id));
      if (!holders.length) continue;
      const e = byValue.get(key) || { type: s.type, value: s.value, in: [], holders: new Map() };
      if (!e.in.includes(ev.id)) e.in.push(ev.id);
      for (const h of holders) e.holders.set(h.id, h);
      byValue.set(key, e);
    }
    for (const x of r.common || []) common.set(`${x.type} ${x.value}`, x);
  }
  return {
    shared: [...byValue.values()].map((e) => ({ ...e, holders: [...e.holders.values()] })),
    common: [...common.values()],
  };
}

// The graph's elements (cytoscape's format) from the case, its items and
// its shared infrastructure.
export function caseElements(c, items, shared) {
  const nodes = new Map();
  const edges = [];
  const node = (id, kind, label) => { if (!nodes.has(id)) nodes.set(id, { data: { id, kind, label } }); return id; };
  const edge = (a, b, label = '') => edges.push({ data: { id: `e${edges.length}`, source: a, target: b, label } });
  node(c.id, 'case', t('attribution.node.case', { id: short(c.id) }));
  for (const inc of (c.facts && c.facts.about) || []) edge(c.id, node(inc, 'incident', t('attribution.node.incident', { id: short(inc) })));
  for (const ev of items.evidence) {
    const b = ev.body || {};
    node(ev.id, 'evidence', `${ev.by}${b.reliability ? ` ${b.reliability}${b.credibility}` : ''}`);
    edge(ev.id, c.id);
    for (const v of evidenceValues(ev.body)) edge(ev.id, node(`v ${v.type} ${v.value}`, 'indicator', v.value));
  }
  for (const cl of items.claims) {
    const b = cl.body;
    if (!b) continue;
    const actor = node(`a ${b.actor}`, 'actor', b.actor);
    const how = `${b.confidence}/100\n${b.likelihood}`; // two values, two lines: never one sentence
    if (b.kind === 'incident-actor' && b.incident) edge(node(b.incident, 'incident', t('attribution.node.incident', { id: short(b.incident) })), actor, how);
    if (b.kind === 'actor-state' && b.state) edge(actor, node(`s ${b.state}`, 'state', b.state.toUpperCase()), how);
    for (const ev of cl.evidence || []) if (nodes.has(ev)) edge(ev, actor);
  }
  for (const s of shared) {
    const v = [...nodes.keys()].find((k) => k.startsWith('v ') && nodes.get(k).data.label === s.value)
      || node(`v ${s.type} ${s.value}`, 'indicator', s.value);
    for (const ev of s.in) if (!edges.some((e) => e.data.source === ev && e.data.target === v)) edge(ev, v);
    for (const h of s.holders) edge(v, node(`r ${h.id}`, 'report', `${h.author} · ${h.kind}`), h.value !== s.value ? h.value : '');
  }
  return { nodes: [...nodes.values()], edges };
}

const COLOURS = { case: '#1d4e89', incident: '#a33', evidence: '#2b6e3f', indicator: '#555',
  actor: '#7a3e9d', state: '#8a5a00', report: '#b5461a' };

// Draws the elements into `el` (a box the caller sized).  Returns the
// cytoscape instance (destroy() it when the box goes).  cytoscape adds a
// <style> element the node's CSP (style-src 'self') refuses: its one rule
// (position: relative) is set on the box instead, and an element of that
// id is put first so that it adds none.
export function drawGraph(el, elements) {
  if (!document.getElementById('__________cytoscape_stylesheet')) {
    const m = document.createElement('meta');
    m.id = '__________cytoscape_stylesheet';
    document.head.prepend(m);
  }
  el.style.position = 'relative';
  return cytoscape({
    container: el,
    elements,
    layout: { name: 'cose', animate: false, randomize: false, nodeRepulsion: () => 9000, idealEdgeLength: () => 90 },
    style: [
      { selector: 'node', style: { label: 'data(label)', 'font-size': 11, 'text-wrap': 'wrap', 'text-max-width': 140,
        'background-color': (n) => COLOURS[n.data('kind')] || '#333', color: '#111', 'text-valign': 'bottom', 'text-margin-y': 4 } },
      { selector: 'node[kind = "indicator"]', style: { shape: 'diamond', width: 18, height: 18 } },
      { selector: 'node[kind = "report"]', style: { shape: 'round-rectangle' } },
      { selector: 'node[kind = "actor"]', style: { shape: 'star', width: 34, height: 34 } },
      { selector: 'edge', style: { width: 1.5, 'line-color': '#999', 'target-arrow-color': '#999', 'target-arrow-shape': 'triangle',
        'curve-style': 'bezier', label: 'data(label)', 'font-size': 9, 'text-wrap': 'wrap', color: '#333', 'text-rotation': 'autorotate' } },
    ],
    wheelSensitivity: 0.3,
  });
}

export const KINDS = Object.keys(COLOURS);
export const colour = (k) => COLOURS[k];
