// record.js: #/record/ID, any record the caller may see: its envelope
// (signature checked here under the author's pinned key, a sealed body
// opened here), and its receipt checked in this browser (receipt.js)
// against the node's log key and the node's witness policy: each listed
// witness's cosignature verified here, the quorum met or not, the names of
// the witnesses whose cosignature verified; the receipt downloadable for
// `comity record verify --receipt FILE --policy FILE` offline.

import { useEffect, useState } from 'preact/hooks';
import * as R from '../receipt.js';
import { api, nodeInfo, readRecord, receiptOf, S } from '../api.js';
import { t } from '../i18n.js';
import { html, Screen, Status, Body, RecordHead, Time } from '../ui.js';

// The witnesses' part of a checked checkpoint or receipt (`w`: receipt.js's
// checkWitnesses answer, undefined without a policy).
export function Witnesses({ w, cosigners }) {
  if (!w) {
    return html`<dt>${t('webb_w.title')}</dt><dd>${t('webb_w.nopolicy')}
      ${cosigners.length ? ` ${t('webb_w.unchecked', { names: cosigners.join(', ') })}` : ''}</dd>`;
  }
  return html`<dt>${t('webb_w.quorum')}</dt>
    <dd class=${w.met ? 'quorum-met' : 'quorum-unmet'} data-quorum=${w.met ? 'met' : 'not-met'}>
      <strong>${w.met ? t('webb_w.met') : t('webb_w.unmet')}</strong> ${t('webb_w.need', { need: w.need })}</dd>
    <dt>${t('webb_w.verified')}</dt>
    <dd>${w.verified.length ? html`<ul class="cosigners">${w.verified.map((v) => html`<li><span class="cosigner">${v.name}</span>${' '}<${Time} t=${new Date(v.time * 1000).toISOString()} /></li>`)}</ul>` : t('none')}</dd>
    ${w.others.length > 0 && html`<dt>${t('webb_w.others')}</dt><dd>${w.others.join(', ')}</dd>`}`;
}

export function Record({ id }) {
  const [rec, setRec] = useState(null);
  const [res, setRes] = useState(null);
  const [msg, setMsg] = useState(null);
  const [rmsg, setRmsg] = useState(null);
  useEffect(() => {
    (async () => {
      const env = await api('GET', `/v1/records/${encodeURIComponent(id)}`);
      setRec(await readRecord(env));
      S.node = null; // the checkpoint and the policy move: ask again
      const n = await nodeInfo();
      const proof = await receiptOf(id, () => setRmsg({ text: t('rc.wait') }));
      try {
        const r = R.checkReceipt(proof, env, n.vkey, n.witness_policy);
        const url = URL.createObjectURL(new Blob([proof], { type: 'text/plain' }));
        const purl = n.witness_policy && URL.createObjectURL(new Blob([n.witness_policy], { type: 'text/plain' }));
        setRes({ ...r, url, purl });
        setRmsg({ text: t('rc.ok', r) });
      } catch (e) { setRmsg({ error: true, text: t('rc.bad', { why: e.message }) }); }
    })().catch((e) => setMsg({ error: true, text: e.message }));
  }, [id]);
  return html`<${Screen} title=${t('webb_rec.title', { id })}>
    <${Status} msg=${msg} />
    ${rec && html`<${RecordHead} rec=${rec} /><${Body} rec=${rec} />`}
    <h2>${t('rc.title')}</h2>
    <p>${t('webb_rec.help')}</p>
    <${Status} msg=${rmsg} />
    ${res && html`<dl class="body receipt"><dt>${t('rc.digest')}</dt><dd><code>${res.digest}</code></dd>
      <dt>${t('rc.entry')}</dt><dd>${t('rc.entryof', res)}</dd>
      <${Witnesses} w=${res.witnesses} cosigners=${res.cosigners} /></dl>
      <p><a href=${res.url} download=${`${id}.proof`}>${t('rc.download')}</a>
        ${res.purl && html`${' '}<a href=${res.purl} download="witness.policy">${t('webb_rec.policy')}</a>`}
        ${' '}${t('rc.offline', { cmd: 'comity record verify --receipt FILE --log-vkey VKEY --policy witness.policy' })}</p>`}
  <//>`;
}
