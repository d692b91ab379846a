// validate.js: early feedback on a message body, by the rules the node
// applies (docs/framework.md, "Record types and body schemas").  The node
// decides: this only spares a round trip and puts the error next to the
// field.  Each function returns {field: message} (empty when valid).

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
    if (required) errs[field] = 'required';
    return;
  }
  const n = bytes(v);
  if (n < 1 || n > max) errs[field] = `1 to ${max} bytes`;
}

// The recipients: party names, none the author or the author's state.
export function checkTo(to, author) {
  const errs = {};
  const state = author.split('.')[0];
  if (!to.length) errs.to = 'name at least one state or party';
  for (const p of to) {
    if (!PARTY.test(p) || p.length > 64) errs.to = `'${p}' is not a party or state name`;
    else if (p === author || p === state) errs.to = `'${p}' is you or your own state`;
  }
  return errs;
}

export function checkTime(errs, field, v, created) {
  if (!v) return;
  if (!validTime(v)) errs[field] = 'want a date and time (RFC 3339)';
  else if (Date.parse(v) <= Date.parse(created)) errs[field] = 'must be later than now';
}

export function checkNotification(b, created) {
  const errs = {};
  if (!Number.isInteger(b.severity) || b.severity < 1 || b.severity > 5) errs.severity = 'want 1 to 5';
  if (!SECTORS.includes(b.sector)) errs.sector = 'choose a sector';
  text(errs, 'summary', b.summary, true);
  if (b.norm !== undefined && !NORMS.includes(b.norm)) errs.norm = 'want 13a to 13k';
  text(errs, 'requested_action', b.requested_action, false);
  checkTime(errs, 'respond_by', b.respond_by, created);
  text(errs, 'case', b.case, false, 128);
  return errs;
}

export function checkRequest(b, created) {
  const errs = {};
  if (!REQUEST_KINDS.includes(b.kind)) errs.kind = 'choose a kind';
  if (b.norm !== '13c' && b.norm !== '13h') errs.norm = 'want 13c or 13h';
  text(errs, 'asked', b.asked, true);
  if (b.severity !== undefined && (!Number.isInteger(b.severity) || b.severity < 1 || b.severity > 5))
    errs.severity = 'want 1 to 5';
  if (b.sector !== undefined && !SECTORS.includes(b.sector)) errs.sector = 'choose a sector';
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
  if (typeof b.announced !== 'boolean') errs.announced = 'want announced or not';
  if (b.kind !== undefined && !POC_KINDS.includes(b.kind)) errs.kind = 'choose a contact kind';
  text(errs, 'round', b.round, false, 128);
  return errs;
}

export const CHANNEL_TYPES = ['email', 'phone', 'fax', 'url', 'comity', 'other'];
const TZ = /^(UTC|[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z][A-Za-z0-9_+-]*){1,2})$/;
const LANG = /^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/;

function channelError(c) {
  if (!CHANNEL_TYPES.includes(c.type)) return `'${c.type}' is not a channel type (${CHANNEL_TYPES.join(', ')})`;
  const n = bytes(c.value);
  if (n < 1 || n > 512) return 'a channel value is 1 to 512 bytes';
  if (c.type === 'email' && (c.value.split('@').length !== 2 || /\s/.test(c.value))) return `'${c.value}' is not an e-mail address`;
  if ((c.type === 'phone' || c.type === 'fax') && !(/^\+[0-9 -]+$/.test(c.value) &&
      (c.value.match(/[0-9]/g) || []).length >= 4 && (c.value.match(/[0-9]/g) || []).length <= 15))
    return `'${c.value}': want + then 4 to 15 digits`;
  if (c.type === 'url' && !c.value.startsWith('https://')) return `'${c.value}': want an https:// address`;
  if (c.type === 'comity' && !PARTY.test(c.value)) return `'${c.value}' is not a party name`;
  return null;
}

// A point of contact (poc body), not a withdrawal.
export function checkPoc(b) {
  const errs = {};
  if (!POC_KINDS.includes(b.kind)) errs.kind = 'choose a contact kind';
  text(errs, 'organisation', b.organisation, true, 256);
  text(errs, 'name', b.name, false, 256);
  text(errs, 'title', b.title, false, 256);
  if (!b.channels.length || b.channels.length > 16) errs.channels = 'give 1 to 16 channels, one a line';
  for (const c of b.channels) { const e = channelError(c); if (e) { errs.channels = e; break; } }
  if (!b.time_zone || b.time_zone.length > 64 || !TZ.test(b.time_zone)) errs.time_zone = 'want UTC or Area/Location (Europe/Paris)';
  if (!b.languages.length || b.languages.length > 16) errs.languages = 'give 1 to 16 languages (en, fr, ur-PK)';
  for (const l of b.languages) if (!LANG.test(l)) errs.languages = `'${l}' is not a language tag`;
  if (b.party !== undefined && !PARTY.test(b.party)) errs.party = 'not a party name';
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
    if (!v.length || v.length > 1024) return 'want 1 to 1024 STIX ids';
    const i = v.findIndex((s) => !stixId(s));
    return i < 0 ? null : `item ${i}: want a STIX id ("indicator--<uuid>")`;
  }
  if (!v || typeof v !== 'object' || v.type !== 'bundle') return 'want a STIX bundle or an array of STIX ids';
  if (!stixId(v.id) || !v.id.startsWith('bundle--')) return 'the bundle\'s id: want "bundle--<uuid>"';
  if (v.objects === undefined) return null;
  if (!Array.isArray(v.objects)) return 'the bundle\'s objects: want an array';
  const i = v.objects.findIndex((o) => !o || typeof o !== 'object' || Array.isArray(o) ||
    typeof o.type !== 'string' || !stixId(o.id));
  return i < 0 ? null : `object ${i}: want a STIX object with type and id`;
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
      return typeof v === 'string' && bytes(v) >= 1 && bytes(v) <= f.max ? null : `1 to ${f.max} bytes`;
    case 'time':
      return validTime(v) ? null : 'want a date and time';
    case 'enum':
      return f.vocab.includes(v) ? null : `want one of ${f.vocab.join(', ')}`;
    case 'true':
      return v === true ? null : 'required: must be confirmed';
    case 'bool':
      return typeof v === 'boolean' ? null : 'want yes or no';
    case 'int':
      // past 2^53 - 1 a JavaScript number is no longer exact (2^53 + 1
      // reads as 2^53): such a number is refused here, whatever the limit
      return Number.isSafeInteger(v) && v >= f.min && v <= f.max ? null
        : `want a whole number from ${f.min} to ${Math.min(f.max, Number.MAX_SAFE_INTEGER)}`;
    case 'sha256':
      return typeof v === 'string' && HEX64.test(v) ? null : 'want 64 lowercase hex digits (SHA-256)';
    case 'party':
      return typeof v === 'string' && v.length <= PARTY_MAX && PARTY.test(v) ? null : 'want a party name (pk.mofa)';
    case 'parties': case 'texts': {
      if (!Array.isArray(v) || !v.length || v.length > f.max) return `give 1 to ${f.max}, one a line`;
      const i = v.findIndex((s) => typeof s !== 'string' || bytes(s) < 1 || bytes(s) > f.item_max ||
        (f.kind === 'parties' && !PARTY.test(s)));
      return i < 0 ? null : `line ${i + 1}: ${f.kind === 'parties' ? 'not a party name' : `1 to ${f.item_max} bytes`}`;
    }
    case 'files':
      // documents carried apart as sealed files (`comity case upload`)
      return Array.isArray(v) && v.length >= 1 && v.length <= f.max &&
        v.every((o) => o && typeof o === 'object' && HEX64.test(o.sha256) && Number.isSafeInteger(o.size) && o.size >= 0)
        ? null : `give 1 to ${f.max} files, each {sha256, size}`;
    case 'objects':
      // JSON objects (an evidence item's STIX objects), checked further by the node
      return Array.isArray(v) && v.length >= 1 && v.length <= f.max &&
        v.every((o) => o && typeof o === 'object' && !Array.isArray(o))
        ? null : `give 1 to ${f.max} JSON objects`;
    default:
      return `unknown field kind ${f.kind}`;
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
    errs.date = errs.date || 'give another date or format';
  if (type.name === 'consult-document' && b.content === undefined && b.sha256 === undefined)
    errs.content = errs.content || 'give the content, or the SHA-256 of a file carried apart';
  if (type.name === 'consult-close' && (b.outcome === 'agreed-statement' || b.outcome === 'partial') &&
      b.statement === undefined)
    errs.statement = errs.statement || `an outcome ${b.outcome} needs the statement`;
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
  if (!requested) errs.to = 'name the requested state or party';
  else if (!PARTY.test(requested) || requested.length > PARTY_MAX) errs.to = `'${requested}' is not a party or state name`;
  else if (st(requested) === mine) errs.to = 'the requested party is of another state than yours';
  if (thirds.length > mech.third_max) errs.third = mech.third_max ? `at most ${mech.third_max}` : 'none in this kind of case';
  for (const p of thirds) {
    if (!PARTY.test(p) || p.length > PARTY_MAX) errs.third = `'${p}' is not a party name`;
    else if (st(p) === mine || (requested && st(p) === st(requested))) errs.third = `'${p}' is of one of the two states`;
  }
  if (mech.name === 'consultation' && !refs.length) errs.refs = 'name at least one incident or message it is about';
  for (const r of refs) if (!/^[a-z0-9-]+--[0-9a-f-]{36}$/.test(r)) errs.refs = `'${r}' is not a record id`;
  return errs;
}
