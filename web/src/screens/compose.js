// compose.js: #/compose/notification and #/compose/request, every field
// of the schema checked here (validate.js) before signing; STIX indicators
// from a file.

import { useEffect, useRef, useState } from 'preact/hooks';
import * as V from '../validate.js';
import { t } from '../i18n.js';
import { go } from '../router.js';
import { S, send } from '../api.js';
import { html, Screen, Status, Field, Select } from '../ui.js';

export function Compose({ type }) {
  const [errs, setErrs] = useState({});
  const [msg, setMsg] = useState(null);
  const form = useRef(null);
  const notif = type === 'notification';
  // after a refused submit, the first field in error gets the focus
  useEffect(() => {
    const first = form.current && form.current.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }, [errs]);
  async function submit(ev) {
    ev.preventDefault();
    const f = ev.target.elements;
    const val = (n) => (f[n] && f[n].value.trim()) || undefined;
    const to = (val('to') || '').split(/[\s,]+/).filter(Boolean);
    const tlp = val('tlp');
    const created = new Date().toISOString();
    const sev = val('severity');
    const body = notif
      ? { severity: sev ? Number(sev) : undefined, sector: val('sector'), summary: val('summary'),
          norm: val('norm'), requested_action: val('requested_action'), case: val('case') }
      : { kind: val('kind'), norm: val('norm'), asked: val('asked'), severity: sev ? Number(sev) : undefined,
          sector: val('sector'), case: val('case') };
    const rb = val('respond_by');
    if (rb) body.respond_by = new Date(rb).toISOString();
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    const e = { ...V.checkTo(to, S.party), ...(notif ? V.checkNotification(body, created) : V.checkRequest(body, created)) };
    if (!V.TLPS.includes(tlp)) e.tlp = 'choose a sharing level';
    // STIX indicators from a file: its JSON becomes body.indicators, as
    // `comity notify --indicators FILE` does; its shape is checked here
    const file = f.indicators.files[0];
    if (file) {
      if (file.size > V.STIX_FILE_MAX) e.indicators = `the file is over ${V.STIX_FILE_MAX} bytes`;
      else {
        let v, why = null;
        try { v = JSON.parse(await file.text()); } catch (x) { why = `not JSON: ${x.message}`; }
        if (!why) why = V.checkIndicators(v);
        if (why) e.indicators = why;
        else body.indicators = v;
      }
    }
    setErrs(e);
    if (Object.keys(e).length) {
      setMsg({ error: true, text: t('c.fix', { n: Object.keys(e).length }) });
      return;
    }
    try {
      const r = await send(type, tlp, to, [], body);
      setMsg({ text: t('c.sent', { type, id: r.id, index: r.log_index }) });
      go(`#/message/${r.id}`);
    } catch (err) { setMsg({ error: true, text: t('c.refused', { why: err.message }) }); }
  }
  return html`<${Screen} title=${notif ? t('c.notification') : t('c.request')}>
    <form onSubmit=${submit} novalidate ref=${form}>
      <${Field} id="to" label=${t('c.to')} errs=${errs} help=${t('c.to.help')}>
        ${(a) => html`<input ...${a} autocomplete="off" />`}<//>
      <${Field} id="tlp" label=${t('c.tlp')} errs=${errs} help=${t('c.tlp.help')}>
        ${Select('amber', V.TLPS)}<//>
      ${notif ? html`
        <${Field} id="severity" label=${t('c.severity')} errs=${errs}>${Select('', ['1', '2', '3', '4', '5'], t('c.choose'))}<//>
        <${Field} id="sector" label=${t('c.sector')} errs=${errs}>${Select('', V.SECTORS, t('c.choose'))}<//>
        <${Field} id="summary" label=${t('c.summary')} errs=${errs}>${(a) => html`<textarea ...${a} rows="4"></textarea>`}<//>
        <${Field} id="norm" label=${t('c.norm.opt')} errs=${errs}>${Select('', V.NORMS, t('c.none'))}<//>
        <${Field} id="requested_action" label=${t('c.action')} errs=${errs}>${(a) => html`<input ...${a} />`}<//>`
      : html`
        <${Field} id="kind" label=${t('c.kind')} errs=${errs}>${Select('', V.REQUEST_KINDS, t('c.choose'))}<//>
        <${Field} id="norm" label=${t('c.norm')} errs=${errs}>${Select('', ['13c', '13h'], t('c.choose'))}<//>
        <${Field} id="asked" label=${t('c.asked')} errs=${errs}>${(a) => html`<textarea ...${a} rows="4"></textarea>`}<//>
        <${Field} id="severity" label=${t('c.severity.opt')} errs=${errs}>${Select('', ['1', '2', '3', '4', '5'], t('c.none'))}<//>
        <${Field} id="sector" label=${t('c.sector.opt')} errs=${errs}>${Select('', V.SECTORS, t('c.none'))}<//>`}
      <${Field} id="respond_by" label=${t('c.respond_by')} errs=${errs}>
        ${(a) => html`<input ...${a} type="datetime-local" />`}<//>
      <${Field} id="case" label=${t('c.case')} errs=${errs}>${(a) => html`<input ...${a} />`}<//>
      <${Field} id="indicators" label=${t('c.stix')} errs=${errs} help=${t('c.stix.help')}>
        ${(a) => html`<input ...${a} type="file" accept=".json,application/json,application/stix+json" />`}<//>
      <button type="submit">${t('c.send')}</button>
    </form>
    <${Status} msg=${msg} />
  <//>`;
}
