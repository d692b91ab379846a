// case-files.js: evidence files on the case screen (files.js does the
// work): the file picker of a record type that takes `files`, the upload
// that seals the file here to the case's parties, sends it, then sends the
// record that lists it and attaches it (with progress), and the documents
// list, where each file a record names is fetched, checked against its
// SHA-256, opened here and offered as a download link.  A file destroyed
// by retention says when, instead of an error.

import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import { S, send, nodeInfo, recipientsFor } from '../api.js';
import * as F from '../files.js';
import { html, Time, Field } from '../ui.js';

const MiB = (n) => (n / 1048576).toFixed(1);

// The picker for the `files` field (the form's element `files`).
export function FilePick({ f, errs }) {
  const l = t('files.pick');
  return html`<${Field} id="files" label=${f.required ? l : t('case.optional', { label: l })} errs=${errs}
    help=${t('files.pick.help', { max: MiB(F.UI_FILE_MAX) })}>${(a) => html`<input ...${a} type="file" />`}<//>`;
}

// A progress bar with its words ({phase, done, total} or null).
export function Progress({ p, id }) {
  if (!p) return null;
  const pct = p.total ? Math.floor((100 * p.done) / p.total) : 0;
  const words = t(`files.${p.phase}`, { pct, done: MiB(p.done), total: MiB(p.total) });
  return html`<div class="progress"><label for=${id}>${words}</label>
    <progress id=${id} max="100" value=${pct}>${pct}%</progress></div>`;
}

// Up to `max` bytes of UTF-8 from `s` (a file's name in a record: 1-256).
function clip(s, max) {
  const te = new TextEncoder();
  while (te.encode(s).length > max) s = s.slice(0, -1);
  return s;
}

// Sends record `type` with File `file`: sealed here to `to` and the author,
// uploaded for the case, listed in the body's `files`, then attached to
// the record.  onProgress({phase, done, total}).  The record's id and
// log index, and the file's {sha256, size}.
export async function sendWithFile(c, type, tlp, to, refs, body, file, onProgress) {
  const info = await nodeInfo();
  const max = Math.min(F.UI_FILE_MAX, info.max_file || F.UI_FILE_MAX);
  const rcpts = await recipientsFor(to);
  const sealed = await F.sealFile(file, rcpts, max, F.perPercent((done, total) => onProgress({ phase: 'sealing', done, total })));
  await F.uploadFile(c.id, sealed, F.perPercent((done, total) => onProgress({ phase: 'sending', done, total })));
  const entry = { sha256: sealed.sha256, size: sealed.size, name: clip(file.name || 'file', 256) || 'file' };
  if (file.type && file.type.length <= 128) entry.media_type = file.type;
  const r = await send(type, tlp, to, refs, { ...body, files: [entry] });
  try {
    await F.attachFile(sealed.sha256, r.id);
  } catch (e) {
    // the record is sent and lists the file; the file is on the node but
    // visible to no one until attached: say how to finish
    throw new Error(`${r.id} was sent, but attaching its file failed (${e.message}): attach it with comity case attach ${r.id} ${sealed.sha256}`);
  }
  return { ...r, file: entry };
}

// The files a record's body names: its `files`, or the older single
// sha256 + size (a consultation's document).
export function filesOf(body) {
  if (!body) return [];
  if (Array.isArray(body.files)) return body.files.filter((f) => f && typeof f.sha256 === 'string');
  if (typeof body.sha256 === 'string') return [{ sha256: body.sha256, size: body.size, name: body.title, media_type: body.media_type }];
  return [];
}

// One file: its name, size and hash; "Fetch and open" -> progress -> a
// link that saves the opened file (or why not).
export function FileEntry({ f, n }) {
  const [st, setSt] = useState({});
  useEffect(() => () => { if (st.url) URL.revokeObjectURL(st.url); }, [st.url]);
  const name = f.name || f.sha256.slice(0, 16);
  async function get() {
    setSt({ p: { phase: 'fetching', done: 0, total: f.size || 0 } });
    try {
      const blob = await F.fetchFile(S.key, f.sha256, f.size, F.perPercent((done, total) => setSt({ p: { phase: 'fetching', done, total } })));
      setSt({ url: URL.createObjectURL(blob), bytes: blob.size });
    } catch (e) {
      if (e.status === 410 && e.body) setSt({ gone: e.body });
      else if (e.status === 404) setSt({ err: t('files.notfound') });
      else setSt({ err: e.message });
    }
  }
  return html`<li class="file"><strong>${name}</strong>${f.size !== undefined ? ` — ${t('files.size', { n: f.size })}` : ''}${f.media_type ? `, ${f.media_type}` : ''}
    <br /><small>SHA-256 <code>${f.sha256}</code></small>
    <div class="file-do" aria-live="polite">
      ${!st.url && !st.p && !st.gone && html`<button type="button" class="secondary" onClick=${get}
        aria-label=${t('files.fetch.named', { name })}>${t('files.fetch')}</button>`}
      <${Progress} p=${st.p} id=${`fetch-${n}`} />
      ${st.url && html`<a href=${st.url} download=${name}>${t('files.save', { name })}</a> <small>(${t('files.opened', { n: st.bytes })})</small>`}
      ${st.gone && html`<p class="msg gone">${t('files.destroyed')} <${Time} t=${st.gone.destroyed} />${st.gone.by_retention ? ` ${t('files.byretention')}` : ''}${' '}<small>(${st.gone.record})</small></p>`}
      ${st.err && html`<p class="msg error" role="alert">${t('files.cannot', { why: st.err })}</p>`}
    </div></li>`;
}
