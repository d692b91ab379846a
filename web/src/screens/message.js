// message.js: #/message/ID, a message with its whole thread, the actions
// allowed now (the node's `next`: the status machine's rule, never derived
// here), and its receipt checked in this browser.

import { useEffect, useState } from 'preact/hooks';
import * as V from '../validate.js';
import * as R from '../receipt.js';
import { t } from '../i18n.js';
import { api, send, nodeInfo, readRecord, receiptOf, S } from '../api.js';
import { html, Time, Screen, Status, Body, RecordHead } from '../ui.js';
import { Witnesses } from './record.js';

function Actions({ status, msgRec, reload }) {
  const [msg, setMsg] = useState(null);
  const [outcome, setOutcome] = useState('answered');
  const [errs, setErrs] = useState({});
  const p = msgRec.payload;
  // what the framework allows the caller now: the node's `next` (the
  // status machine's rule, comity_framework_message_next), nothing else
  const may = (type) => (status.next || []).some((n) => n.type === type);
  const canPong = may('pong');
  const canAck = may('ack');
  const canReply = may('reply');
  const canClose = may('close');
  async function act(type, body) {
    try {
      const r = await send(type, p.tlp, [p.author], [p.id], body);
      setMsg({ text: t('act.sent', { type, index: r.log_index }) });
      reload();
    } catch (e) { setMsg({ error: true, text: t('act.notsent', { why: e.message }) }); }
  }
  function onReply(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const body = outcome === 'answered' ? { outcome, text: f.replytext.value } : { outcome, reasons: f.replytext.value };
    const e = V.checkReply(body);
    setErrs(e);
    if (!Object.keys(e).length) act('reply', body);
  }
  function onAck(ev) {
    ev.preventDefault();
    const note = ev.target.elements.acknote.value;
    act('ack', note ? { note } : {});
  }
  function onClose(ev) {
    ev.preventDefault();
    const reason = ev.target.elements.closereason.value;
    act('close', reason ? { reason } : {});
  }
  const err = errs.text || errs.reasons;
  if (canPong)
    return html`<h2>${t('act.title')}</h2>
      <p>${t('act.pinghelp')}</p>
      <button type="button" onClick=${() => act('pong', {})}>${t('act.pong')}</button>
      <${Status} msg=${msg} />`;
  if (!canAck && !canReply && !canClose)
    return html`<h2>${t('act.title')}</h2><p class="empty">${t('act.nothing')}</p><${Status} msg=${msg} />`;
  return html`<h2>${t('act.title')}</h2>
    ${canAck && html`<form onSubmit=${onAck} aria-label=${t('act.ack')}>
      <div class="field"><label for="acknote">${t('act.acknote')}</label>
        <input id="acknote" name="acknote" /></div>
      <button type="submit">${t('act.ack')}</button></form>`}
    ${canReply && html`<form onSubmit=${onReply} aria-label=${t('act.reply')}>
      <fieldset><legend>${t('act.outcome')}</legend>
        <label><input type="radio" name="outcome" value="answered" checked=${outcome === 'answered'}
          onChange=${() => setOutcome('answered')} /> ${t('act.answered')}</label>
        <label><input type="radio" name="outcome" value="declined" checked=${outcome === 'declined'}
          onChange=${() => setOutcome('declined')} /> ${t('act.declined')}</label></fieldset>
      <div class="field"><label for="replytext">${outcome === 'answered' ? t('act.answer') : t('act.reasons')}</label>
        <textarea id="replytext" name="replytext" rows="4" aria-invalid=${err ? 'true' : 'false'}
          aria-describedby=${err ? 'replytext-err' : undefined}></textarea>
        ${err && html`<p id="replytext-err" class="field-error">${err}</p>`}</div>
      <button type="submit">${t('act.sendreply')}</button></form>`}
    ${canClose && html`<form onSubmit=${onClose} aria-label=${t('act.close')}>
      <div class="field"><label for="closereason">${t('act.closereason')}</label>
        <input id="closereason" name="closereason" /></div>
      <button type="submit">${t('act.closebtn')}</button></form>`}
    <${Status} msg=${msg} />`;
}

function Receipt({ id, envelope }) {
  const [res, setRes] = useState(null);
  const [msg, setMsg] = useState(null);
  async function checkIt() {
    try {
      S.node = null; // the checkpoint and the witness policy move: ask again
      const n = await nodeInfo();
      const proof = await receiptOf(id, () => setMsg({ text: t('rc.wait') }));
      const r = R.checkReceipt(proof, envelope, n.vkey, n.witness_policy);
      const url = URL.createObjectURL(new Blob([proof], { type: 'text/plain' }));
      setRes({ ...r, url });
      setMsg({ text: t('rc.ok', r) });
    } catch (e) { setMsg({ error: true, text: t('rc.bad', { why: e.message }) }); }
  }
  return html`<h2>${t('rc.title')}</h2>
    <p>${t('rc.help')}</p>
    <button type="button" onClick=${checkIt}>${t('rc.check')}</button>
    <${Status} msg=${msg} />
    ${res && html`<dl class="body"><dt>${t('rc.digest')}</dt><dd><code>${res.digest}</code></dd>
      <dt>${t('rc.entry')}</dt><dd>${t('rc.entryof', res)}</dd>
      <${Witnesses} w=${res.witnesses} cosigners=${res.cosigners} /></dl>
      <p><a href=${res.url} download=${`${id}.proof`}>${t('rc.download')}</a> ${t('rc.offline', { cmd: 'comity record verify --receipt' })}</p>`}`;
}

export function Message({ id }) {
  const [state, setState] = useState(null);
  const [msg, setMsg] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    (async () => {
      const status = await api('GET', `/v1/framework/messages/${encodeURIComponent(id)}`);
      const envelope = await api('GET', `/v1/records/${encodeURIComponent(id)}`);
      const rec = await readRecord(envelope);
      rec.envelope = envelope;
      // the thread: the node's index of the records whose refs name this
      // message, those this party may read, page after page
      const thread = [];
      let after = null;
      for (;;) {
        const q = after === null ? '' : `&after=${encodeURIComponent(after)}`;
        const page = await api('GET', `/v1/framework/messages/${encodeURIComponent(id)}/thread?limit=500${q}`);
        for (const row of page.records) {
          if (row.envelope && row.id !== id) thread.push(await readRecord(row.envelope));
        }
        if (!page.more) break;
        after = page.next;
      }
      thread.sort((a, b) => Date.parse(a.payload.created) - Date.parse(b.payload.created));
      setState({ status, rec, thread });
    })().catch((e) => setMsg({ error: true, text: e.message }));
  }, [id, tick]);
  const title = state ? `${state.rec.payload.type} ${id.split('--')[1].slice(0, 8)}` : t('msg.title');
  return html`<${Screen} title=${title}>
    <${Status} msg=${msg} />
    ${state && html`
      <${RecordHead} rec=${state.rec} />
      <p>${t('msg.state')}: <strong>${state.status.state}</strong>${state.status.overdue ? html` <strong class="badge">${t('overdue')}</strong>` : ''}
        ${state.status.expects ? html`, ${t('msg.expects', { what: state.status.expects })} <${Time} t=${state.status.due} />` : ''}</p>
      ${state.rec.payload.sealed && state.status.expects && html`<p class="help">${t('msg.sealeddue')}</p>`}
      <${Body} rec=${state.rec} />
      <h2>${t('msg.thread')}</h2>
      ${state.thread.length ? html`<ol class="thread">${state.thread.map((t) => html`<li>
        <h3>${t.payload.type}</h3><${RecordHead} rec=${t} /><${Body} rec=${t} /></li>`)}</ol>`
        : html`<p class="empty">${t('msg.noanswer')}</p>`}
      <${Actions} status=${state.status} msgRec=${state.rec} reload=${() => setTick(tick + 1)} />
      <${Receipt} id=${id} envelope=${state.rec.envelope} />`}
  <//>`;
}
