// validate.js: early feedback on a message body, by the rules the node
// applies (docs/framework.md, "Record types and body schemas").  The node
// decides: this only spares a round trip and puts the error next to the
// field.  Each function returns {field: message} (empty when valid), the
// messages from the catalogs (i18n.js's v.* keys) in the chosen language.

import { t } from './i18n.js';

export const SECTORS = ['energy', 'water', 'health', 'finance', 'transport', 'communications',
  'government', 'food', 'chemical', 'nuclear', 'space', 'digital-infrastructure',
  'manufacturing', 'emergency-services'];
export const NORMS = ['13a', '13b', '13c', '13d', '13e', '13f', '13g', '13h', '13i', '13j', '13k'];
export const REQUEST_KINDS = ['information', 'assistance', 'mitigation'];
export const TLPS = ['clear', 'green', 'amber', 'amber+strict', 'red'];

const bytes = (s) => new TextEncoder().encode(s).length;
const PARTY = /^[a-z0-9-]+(\.[a-z0-9-]+)*$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;
const MDAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

// An RFC 3339 time as the node reads one (src/base/time.c): a real day of
// its month (Date.parse would roll 2026-02-31 over into March), hours to
// 23, minutes to 59, seconds to 60 (a leap second), an offset to 23:59.
export function validTime(v) {
  const m = typeof v === 'string' && v.length <= 64 ? RFC3339.exec(v) : null;
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number);
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  if (mo < 1 || mo > 12 || d < 1 || d > MDAYS[mo - 1] || (mo === 2 && d === 29 && !leap)) return false;
  if (h > 23 || mi > 59 || se > 60) return false;
  return m[9] === undefined || (Number(m[9]) <= 23 && Number(m[10]) <= 59);
}

function text(errs, field, v, required, max = 4096) {
  if (v === undefined || v === '') {
    if (required) errs[field] = t('v.required');
    return;
  }
  const n = bytes(v);
  if (n < 1 || n > max) errs[field] = t('v.bytes', { max });
}

// The recipients: party names, none the author or the author's state.
export function checkTo(to, author) {
  const errs = {};
  const state = author.split('.')[0];
  if (!to.length) errs.to = t('v.to.none');
  for (const p of to) {
    if (!PARTY.test(p) || p.length > 64) errs.to = t('v.to.bad', { p });
    else if (p === author || p === state) errs.to = t('v.to.self', { p });
  }
  return errs;
}

export function checkTime(errs, field, v, created) {
  if (!v) return;
  if (!validTime(v)) errs[field] = t('v.time3339');
  else if (Date.parse(v) <= Date.parse(created)) errs[field] = t('v.later');
}

export function checkNotification(b, created) {
  const errs = {};
  if (!Number.isInteger(b.severity) || b.severity < 1 || b.severity > 5) errs.severity = t('v.severity');
  if (!SECTORS.includes(b.sector)) errs.sector = t('v.sector');
  text(errs, 'summary', b.summary, true);
  if (b.norm !== undefined && !NORMS.includes(b.norm)) errs.norm = t('v.norm');
  text(errs, 'requested_action', b.requested_action, false);
  checkTime(errs, 'respond_by', b.respond_by, created);
  text(errs, 'case', b.case, false, 128);
  return errs;
}

export function checkRequest(b, created) {
  const errs = {};
  if (!REQUEST_KINDS.includes(b.kind)) errs.kind = t('v.kind');
  if (b.norm !== '13c' && b.norm !== '13h') errs.norm = t('v.norm.request');
  text(errs, 'asked', b.asked, true);
  if (b.severity !== undefined && (!Number.isInteger(b.severity) || b.severity < 1 || b.severity > 5))
    errs.severity = t('v.severity');
  if (b.sector !== undefined && !SECTORS.includes(b.sector)) errs.sector = t('v.sector');
  checkTime(errs, 'respond_by', b.respond_by, created);
  text(errs, 'case', b.case, false, 128);
  return errs;
}

export function checkReply(b) {
  const errs = {};
  if (b.outcome === 'answered') text(errs, 'text', b.text, true, 65536);
  else text(errs, 'reasons', b.reasons, true);
  return errs;
}

export const POC_KINDS = ['diplomatic', 'technical', 'le-24x7', 'central-authority', 'ci-authority'];

export function checkPing(b) {
  const errs = {};
  if (typeof b.announced !== 'boolean') errs.announced = t('v.announced');
  if (b.kind !== undefined && !POC_KINDS.includes(b.kind)) errs.kind = t('v.pockind');
  text(errs, 'round', b.round, false, 128);
  return errs;
}

export const CHANNEL_TYPES = ['email', 'phone', 'fax', 'url', 'comity', 'other'];
const TZ = /^(UTC|[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z][A-Za-z0-9_+-]*){1,2})$/;
const LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

function channelError(c) {
  if (!CHANNEL_TYPES.includes(c.type)) return t('v.chan.type', { type: c.type, types: CHANNEL_TYPES.join(', ') });
  const n = bytes(c.value);
  if (n < 1 || n > 512) return t('v.chan.len');
  if (c.type === 'email' && (c.value.split('@').length !== 2 || /\s/.test(c.value))) return t('v.chan.email', { v: c.value });
  if ((c.type === 'phone' || c.type === 'fax') && !(/^\+[0-9 -]+$/.test(c.value) &&
      (c.value.match(/[0-9]/g) || []).length >= 4 && (c.value.match(/[0-9]/g) || []).length <= 15))
    return t('v.chan.phone', { v: c.value });
  if (c.type === 'url' && !c.value.startsWith('https://')) return t('v.chan.url', { v: c.value });
  if (c.type === 'comity' && !PARTY.test(c.value)) return t('v.notparty', { p: c.value });
  return null;
}

// A point of contact (poc body), not a withdrawal.
export function checkPoc(b) {
  const errs = {};
  if (!POC_KINDS.includes(b.kind)) errs.kind = t('v.pockind');
  text(errs, 'organisation', b.organisation, true, 256);
  text(errs, 'name', b.name, false, 256);
  text(errs, 'title', b.title, false, 256);
  if (!b.channels.length || b.channels.length > 16) errs.channels = t('v.channels');
  for (const c of b.channels) { const e = channelError(c); if (e) { errs.channels = e; break; } }
  if (!b.time_zone || b.time_zone.length > 64 || !TZ.test(b.time_zone)) errs.time_zone = t('v.tz');
  if (!b.languages.length || b.languages.length > 16) errs.languages = t('v.langs');
  for (const l of b.languages) if (!LANG.test(l)) errs.languages = t('v.lang', { l });
  if (b.party !== undefined && !PARTY.test(b.party)) errs.party = t('v.party');
  // valid_from (required by the schema; the form fills in now when left
  // empty) and valid_until (optional, after valid_from), as schema.c
  if (!validTime(b.valid_from)) errs.valid_from = t('v.time3339');
  if (b.valid_until !== undefined) {
    if (!validTime(b.valid_until)) errs.valid_until = t('v.time3339');
    else if (!errs.valid_from && Date.parse(b.valid_until) <= Date.parse(b.valid_from)) errs.valid_until = t('dir.valid.after');
  }
  return errs;
}

// STIX indicators from a file, as `comity notify --indicators FILE` puts
// the file's JSON into body.indicators: a STIX 2.1 bundle (type "bundle",
// id "bundle--<uuid>", objects each with a type and a STIX id) or an array
// of 1-1024 STIX ids (schema.c, indicators()).  Returns an error text, or
// null when the shape is right.  The file is at most COMITY_RECORD_MAX
// (1 MiB), the payload cap.
export const STIX_FILE_MAX = 1 << 20;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const stixId = (s) => {
  if (typeof s !== 'string') return false;
  const i = s.indexOf('--');
  return i > 0 && i <= 64 && /^[a-z0-9-]+$/.test(s.slice(0, i)) && UUID.test(s.slice(i + 2));
};
export function checkIndicators(v) {
  if (Array.isArray(v)) {
    if (!v.length || v.length > 1024) return t('v.stix.count');
    const i = v.findIndex((s) => !stixId(s));
    return i < 0 ? null : t('v.stix.item', { i });
  }
  if (!v || typeof v !== 'object' || v.type !== 'bundle') return t('v.stix.shape');
  if (!stixId(v.id) || !v.id.startsWith('bundle--')) return t('v.stix.bundleid');
  if (v.objects === undefined) return null;
  if (!Array.isArray(v.objects)) return t('v.stix.objects');
  const i = v.objects.findIndex((o) => !o || typeof o !== 'object' || Array.isArray(o) ||
    typeof o.type !== 'string' || !stixId(o.id));
  return i < 0 ? null : t('v.stix.object', { i });
}

// ---- cases ----------------------------------------------------------------
// A case body is checked against the schema the node publishes
// (GET /v1/framework/case-types: the very tables it checks with), so the
// field rules are not written here a second time: checkCaseBody reads the
// field's kind and limits from that answer.  The node cannot check a
// sealed body, so for a sealed case this check, before sealing, is the
// author's (the recipients' clients check again when they open it).

const HEX64 = /^[0-9a-f]{64}$/;
const PARTY_MAX = 64;

function fieldError(f, v) {
  switch (f.kind) {
    case 'text':
      return typeof v === 'string' && bytes(v) >= 1 && bytes(v) <= f.max ? null : t('v.bytes', { max: f.max });
    case 'time':
      return validTime(v) ? null : t('v.time');
    case 'enum':
      return f.vocab.includes(v) ? null : t('v.enum', { words: f.vocab.join(', ') });
    case 'true':
      return v === true ? null : t('v.true');
    case 'bool':
      return typeof v === 'boolean' ? null : t('v.bool');
    case 'int':
      // past 2^53 - 1 a JavaScript number is no longer exact (2^53 + 1
      // reads as 2^53): such a number is refused here, whatever the limit
      return Number.isSafeInteger(v) && v >= f.min && v <= f.max ? null
        : t('v.int', { min: f.min, max: Math.min(f.max, Number.MAX_SAFE_INTEGER) });
    case 'sha256':
      return typeof v === 'string' && HEX64.test(v) ? null : t('v.sha256');
    case 'party':
      return typeof v === 'string' && v.length <= PARTY_MAX && PARTY.test(v) ? null : t('v.partyname');
    case 'parties': case 'texts': {
      if (!Array.isArray(v) || !v.length || v.length > f.max) return t('v.lines', { max: f.max });
      const i = v.findIndex((s) => typeof s !== 'string' || bytes(s) < 1 || bytes(s) > f.item_max ||
        (f.kind === 'parties' && !PARTY.test(s)));
      return i < 0 ? null : f.kind === 'parties' ? t('v.line.party', { n: i + 1 }) : t('v.line.bytes', { n: i + 1, max: f.item_max });
    }
    case 'files':
      // documents carried apart as sealed files (`comity case upload`)
      return Array.isArray(v) && v.length >= 1 && v.length <= f.max &&
        v.every((o) => o && typeof o === 'object' && HEX64.test(o.sha256) && Number.isSafeInteger(o.size) && o.size >= 0)
        ? null : t('v.files', { max: f.max });
    case 'objects':
      // JSON objects (an evidence item's STIX objects), checked further by the node
      return Array.isArray(v) && v.length >= 1 && v.length <= f.max &&
        v.every((o) => o && typeof o === 'object' && !Array.isArray(o))
        ? null : t('v.objects', { max: f.max });
    default:
      return t('v.kindunknown', { kind: f.kind });
  }
}

// The value a form gives for a field of this kind: undefined when empty;
// texts and parties one a line; numbers and yes/no as JSON wants them.
export function caseFieldValue(f, raw, checked) {
  if (f.kind === 'true' || f.kind === 'bool') return checked ? true : f.kind === 'bool' ? false : undefined;
  const s = (raw || '').trim();
  if (!s) return undefined;
  if (f.kind === 'int') return /^-?\d+$/.test(s) ? Number(s) : s;
  if (f.kind === 'time') return Number.isNaN(Date.parse(s)) ? s : new Date(s).toISOString();
  if (f.kind === 'texts' || f.kind === 'parties') return s.split('\n').map((l) => l.trim()).filter(Boolean);
  return s;
}

// Checks a case body against its published type ({name, fields,
// more_rules}); returns {field: message}.  The three rules across fields
// the node applies besides its tables (consult.c: check_propose,
// check_document, check_close) are given here as early feedback.
export function checkCaseBody(type, b) {
  const errs = {};
  for (const f of type.fields) {
    if (b[f.name] === undefined) { if (f.required) errs[f.name] = 'required'; continue; }
    const e = fieldError(f, b[f.name]);
    if (e) errs[f.name] = e;
  }
  if (type.name === 'consult-propose' && b.date === undefined && b.format === undefined)
    errs.date = errs.date || t('v.propose');
  if (type.name === 'consult-document' && b.content === undefined && b.sha256 === undefined)
    errs.content = errs.content || t('v.document');
  if (type.name === 'consult-close' && (b.outcome === 'agreed-statement' || b.outcome === 'partial') &&
      b.statement === undefined)
    errs.statement = errs.statement || t('v.close', { outcome: b.outcome });
  return errs;
}

// The opening's envelope: the requested party of another state, third
// parties (where the mechanism allows them) of neither state, and for a
// consultation at least one record it is about (docs/framework.md, the
// core's rules).
export function checkCaseOpening(mech, author, requested, thirds, refs) {
  const errs = {};
  const mine = author.split('.')[0];
  const st = (p) => p.split('.')[0];
  if (!requested) errs.to = t('v.requested');
  else if (!PARTY.test(requested) || requested.length > PARTY_MAX) errs.to = t('v.to.bad', { p: requested });
  else if (st(requested) === mine) errs.to = t('v.requested.state');
  if (thirds.length > mech.third_max) errs.third = mech.third_max ? t('v.third.max', { n: mech.third_max }) : t('v.third.none');
  for (const p of thirds) {
    if (!PARTY.test(p) || p.length > PARTY_MAX) errs.third = t('v.notparty', { p });
    else if (st(p) === mine || (requested && st(p) === st(requested))) errs.third = t('v.third.state', { p });
  }
  if (mech.name === 'consultation' && !refs.length) errs.refs = t('v.refs');
  for (const r of refs) if (!/^[a-z0-9-]+--[0-9a-f-]{36}$/.test(r)) errs.refs = t('v.refs.bad', { r });
  return errs;
}

// A new party's name and registration note, as the node checks them
// (comity_party_valid, src/base/party.c; the note: src/node/enrol.c):
// errors by field (party, note).
const NEW_PARTY = /^[a-z]{2,8}(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;
export const REG_NOTE_MAX = 280;
export function checkRegistration(party, note) {
  const errs = {};
  if (!party) errs.party = t('v.required');
  else if (party.length > PARTY_MAX || !NEW_PARTY.test(party)) errs.party = t('register.v.party');
  if (new TextEncoder().encode(note).length > REG_NOTE_MAX) errs.note = t('v.bytes', { max: REG_NOTE_MAX });
  else if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(note)) errs.note = t('register.v.note');
  return errs;
}
