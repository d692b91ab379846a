// ui.js: the small components every screen uses: a screen with its
// focused heading, a status line (live region), times in the user's zone
// with UTC on hover and focus, a form field with its label, help and
// error, a select, and a record's head and body.

import { h } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import htm from 'htm';
import { t, current } from './i18n.js';

export const html = htm.bind(h);

// Times: in the user's time zone and language; UTC in the title (hover),
// and shown after the time when it has the keyboard focus (style.css).
export function Time({ t: at }) {
  if (!at) return html`<span>—</span>`;
  const d = new Date(at);
  const utc = `UTC ${d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')}`;
  return html`<time datetime=${at} title=${utc} data-utc=${utc} tabindex="0">${d.toLocaleString(current())}</time>`;
}

export function Screen({ title, children }) {
  const ref = useRef(null);
  useEffect(() => { document.title = `${title} · comity`; ref.current && ref.current.focus(); }, [title]);
  return html`<section aria-labelledby="screen-title">
    <h1 id="screen-title" tabindex="-1" ref=${ref}>${title}</h1>${children}</section>`;
}

export function Status({ msg }) {
  if (!msg) return null;
  return html`<p class=${msg.error ? 'msg error' : 'msg ok'} role=${msg.error ? 'alert' : 'status'}>${msg.text}</p>`;
}

export function Body({ rec }) {
  if (rec.openError) return html`<p class="msg error" role="alert">${t('msg.cannotopen', { why: rec.openError })}</p>`;
  const b = rec.body || {};
  return html`<dl class="body">${Object.keys(b).map((k) => html`<dt>${k}</dt>
    <dd>${typeof b[k] === 'object' ? JSON.stringify(b[k]) : String(b[k])}</dd>`)}</dl>`;
}

export function RecordHead({ rec }) {
  const p = rec.payload;
  const how = [`TLP:${p.tlp.toUpperCase()}`, rec.opened && t('msg.opened'),
    rec.verified ? t('msg.verified') : t('msg.unverified')].filter(Boolean).join(', ');
  return html`<p class="meta">${t('msg.from')} <strong>${p.author}</strong> ${t('msg.to')} ${(p.to || []).join(', ') || '—'}${', '}<${Time} t=${p.created} />${', '}${how}</p>`;
}

export function Field({ id, label, errs, children, help }) {
  const e = errs[id];
  const desc = [help && `${id}-help`, e && `${id}-err`].filter(Boolean).join(' ') || undefined;
  return html`<div class="field"><label for=${`f-${id}`}>${label}</label>
    ${children({ id: `f-${id}`, name: id, 'aria-invalid': e ? 'true' : 'false', 'aria-describedby': desc })}
    ${help && html`<p id=${`${id}-help`} class="help">${help}</p>`}
    ${e && html`<p id=${`${id}-err`} class="field-error">${e}</p>`}</div>`;
}

export const Select = (opts, values, blank) => (a) => html`<select ...${a}>
  ${blank && html`<option value="">${blank}</option>`}
  ${values.map((v) => html`<option value=${v} selected=${v === opts}>${v}</option>`)}</select>`;
