// i18n.js: the UI's message catalogs and the chosen language.
// English is the reference catalog; French and Arabic cover the shell, the
// inbox, the message and the compose screens (a key missing from a
// catalog falls back to English).  The choice is kept in localStorage
// (`comity.lang`, a language code, nothing else) and applied to <html>:
// its lang, and dir="rtl" for Arabic; the style sheet uses logical
// properties only, so the layout mirrors by itself.
// t(key, vars) formats "{name}" placeholders from vars.

export const LANGS = [
  { code: 'en', name: 'English' },
  { code: 'fr', name: 'Français' },
  { code: 'ar', name: 'العربية', dir: 'rtl' },
];

const en = {
  'lang.label': 'Language',
  'nav.main': 'Main', 'nav.inbox': 'Inbox', 'nav.notification': 'New notification',
  'nav.request': 'New request', 'nav.ping': 'New ping', 'nav.pings': 'Pings',
  'nav.directory': 'Directory', 'nav.log': 'Log', 'skip': 'Skip to content',
  'who': 'Logged in as', 'logout': 'Log out', 'loading': 'Loading…',
  'inbox.title': 'Inbox', 'inbox.filters': 'Filter the inbox', 'inbox.type': 'Type',
  'inbox.state': 'State', 'inbox.severity': 'Severity', 'inbox.sector': 'Sector',
  'inbox.search': 'Search (id, from, to)', 'all': 'All',
  'inbox.me': 'Awaiting you', 'inbox.others': 'Awaiting others',
  'inbox.nomatch': 'Nothing matches the filters.', 'inbox.empty.me': 'Nothing awaits you.',
  'inbox.empty.others': 'Nothing you sent awaits an answer.',
  'inbox.more': 'Show {n} more ({shown} of {total} shown)',
  'col.due': 'Due', 'col.message': 'Message', 'col.from': 'From', 'col.to': 'To',
  'col.state': 'State', 'col.expects': 'Expects', 'col.severity': 'Severity', 'col.sector': 'Sector',
  'overdue': 'Overdue', 'sealed': 'sealed',
  'sealed.opened': 'Opened in this browser: the node cannot read it, and its deadline uses the default row',
  'sealed.unknown': 'Sealed: open the message to see it here',
  'msg.title': 'Message', 'msg.state': 'State', 'msg.expects': 'expects {what} by',
  'msg.thread': 'Thread', 'msg.noanswer': 'No answer yet.',
  'msg.from': 'From', 'msg.to': 'to', 'msg.opened': 'opened in this browser',
  'msg.verified': 'signature verified', 'msg.unverified': 'signature NOT verified',
  'msg.cannotopen': 'Sealed: cannot open ({why}).',
  'msg.sealeddue': 'The body is sealed: the node times this message by its envelope (severity unknown, the default deadline row).',
  'act.title': 'Actions', 'act.pinghelp': 'A communication check: answer it to show this contact is reachable.',
  'act.pong': 'Answer the ping', 'act.nothing': 'Nothing is expected from you on this message.',
  'act.ack': 'Acknowledge', 'act.acknote': 'Note with the acknowledgement (optional)',
  'act.reply': 'Reply', 'act.outcome': 'Outcome', 'act.answered': 'Answered', 'act.declined': 'Declined',
  'act.answer': 'Answer', 'act.reasons': 'Reasons for declining', 'act.sendreply': 'Send reply',
  'act.close': 'Close', 'act.closereason': 'Reason for closing (optional)', 'act.closebtn': 'Close the message',
  'act.sent': 'Sent {type} (log index {index}).', 'act.notsent': 'Not sent: {why}',
  'rc.title': 'Receipt', 'rc.help': 'The node\'s log proves this record existed. The check runs in this browser, against the node\'s log key.',
  'rc.check': 'Check the receipt', 'rc.ok': 'Receipt verified: entry {index} of {size} in {origin}\'s log.',
  'rc.bad': 'Receipt not verified: {why}', 'rc.digest': 'Digest', 'rc.entry': 'Log entry',
  'rc.entryof': '{index} of {size}', 'rc.witnesses': 'Witnesses', 'none': 'none',
  'rc.download': 'Download the receipt', 'rc.offline': '(check it offline with {cmd})',
  'c.notification': 'New notification', 'c.request': 'New request',
  'c.to': 'To (states or parties, comma-separated)', 'c.to.help': 'e.g. in or in.cert-in',
  'c.tlp': 'Sharing (TLP)', 'c.tlp.help': 'amber and red are sealed in this browser to the recipients',
  'c.severity': 'Severity (1-5)', 'c.severity.opt': 'Severity (optional)', 'c.sector': 'Sector',
  'c.sector.opt': 'Sector (optional)', 'c.summary': 'Summary', 'c.norm.opt': 'Norm (optional)', 'c.norm': 'Norm',
  'c.action': 'Requested action (optional)', 'c.kind': 'Kind', 'c.asked': 'What is asked',
  'c.respond_by': 'Respond by (optional, your local time)', 'c.case': 'Case (optional)',
  'c.stix': 'STIX indicators (optional, a STIX 2.1 bundle file)',
  'c.stix.help': 'Attached as `comity notify --stix` does: the bundle\'s objects go into the body, sealed with it',
  'c.stix.count': '{n} STIX object(s) attached.',
  'c.choose': 'Choose…', 'c.none': 'None', 'c.send': 'Sign and send',
  'c.fix': 'Not sent: {n} field(s) to fix.', 'c.sent': 'Sent {type} {id} (log index {index}).',
  'c.refused': 'The node refused it: {why}',
};

const fr = {
  'lang.label': 'Langue',
  'nav.main': 'Principal', 'nav.inbox': 'Boîte de réception', 'nav.notification': 'Nouvelle notification',
  'nav.request': 'Nouvelle demande', 'nav.ping': 'Nouveau ping', 'nav.pings': 'Pings',
  'nav.directory': 'Annuaire', 'nav.log': 'Journal', 'skip': 'Aller au contenu',
  'who': 'Connecté en tant que', 'logout': 'Se déconnecter', 'loading': 'Chargement…',
  'inbox.title': 'Boîte de réception', 'inbox.filters': 'Filtrer la boîte de réception', 'inbox.type': 'Type',
  'inbox.state': 'État', 'inbox.severity': 'Gravité', 'inbox.sector': 'Secteur',
  'inbox.search': 'Rechercher (identifiant, expéditeur, destinataire)', 'all': 'Tous',
  'inbox.me': 'En attente de vous', 'inbox.others': 'En attente des autres',
  'inbox.nomatch': 'Rien ne correspond aux filtres.', 'inbox.empty.me': 'Rien ne vous attend.',
  'inbox.empty.others': 'Rien de ce que vous avez envoyé n\'attend de réponse.',
  'inbox.more': 'Afficher {n} de plus ({shown} sur {total} affichés)',
  'col.due': 'Échéance', 'col.message': 'Message', 'col.from': 'De', 'col.to': 'À',
  'col.state': 'État', 'col.expects': 'Attendu', 'col.severity': 'Gravité', 'col.sector': 'Secteur',
  'overdue': 'En retard', 'sealed': 'scellé',
  'sealed.opened': 'Ouvert dans ce navigateur : le nœud ne peut pas le lire, et son échéance suit la ligne par défaut',
  'sealed.unknown': 'Scellé : ouvrez le message pour le voir ici',
  'msg.title': 'Message', 'msg.state': 'État', 'msg.expects': 'attend {what} avant le',
  'msg.thread': 'Fil', 'msg.noanswer': 'Pas encore de réponse.',
  'msg.from': 'De', 'msg.to': 'à', 'msg.opened': 'ouvert dans ce navigateur',
  'msg.verified': 'signature vérifiée', 'msg.unverified': 'signature NON vérifiée',
  'msg.cannotopen': 'Scellé : impossible de l\'ouvrir ({why}).',
  'msg.sealeddue': 'Le corps est scellé : le nœud date ce message d\'après son enveloppe (gravité inconnue, délai par défaut).',
  'act.title': 'Actions', 'act.pinghelp': 'Un test de communication : répondez pour montrer que ce contact est joignable.',
  'act.pong': 'Répondre au ping', 'act.nothing': 'Rien n\'est attendu de vous sur ce message.',
  'act.ack': 'Accuser réception', 'act.acknote': 'Note avec l\'accusé de réception (facultatif)',
  'act.reply': 'Répondre', 'act.outcome': 'Issue', 'act.answered': 'Répondu', 'act.declined': 'Refusé',
  'act.answer': 'Réponse', 'act.reasons': 'Motifs du refus', 'act.sendreply': 'Envoyer la réponse',
  'act.close': 'Clore', 'act.closereason': 'Motif de clôture (facultatif)', 'act.closebtn': 'Clore le message',
  'act.sent': '{type} envoyé (entrée {index} du journal).', 'act.notsent': 'Non envoyé : {why}',
  'rc.title': 'Reçu', 'rc.help': 'Le journal du nœud prouve que cet enregistrement a existé. La vérification se fait dans ce navigateur, avec la clé du journal.',
  'rc.check': 'Vérifier le reçu', 'rc.ok': 'Reçu vérifié : entrée {index} sur {size} du journal de {origin}.',
  'rc.bad': 'Reçu non vérifié : {why}', 'rc.digest': 'Empreinte', 'rc.entry': 'Entrée du journal',
  'rc.entryof': '{index} sur {size}', 'rc.witnesses': 'Témoins', 'none': 'aucun',
  'rc.download': 'Télécharger le reçu', 'rc.offline': '(à vérifier hors ligne avec {cmd})',
  'c.notification': 'Nouvelle notification', 'c.request': 'Nouvelle demande',
  'c.to': 'À (États ou parties, séparés par des virgules)', 'c.to.help': 'par ex. in ou in.cert-in',
  'c.tlp': 'Diffusion (TLP)', 'c.tlp.help': 'amber et red sont scellés dans ce navigateur pour les destinataires',
  'c.severity': 'Gravité (1-5)', 'c.severity.opt': 'Gravité (facultatif)', 'c.sector': 'Secteur',
  'c.sector.opt': 'Secteur (facultatif)', 'c.summary': 'Résumé', 'c.norm.opt': 'Norme (facultatif)', 'c.norm': 'Norme',
  'c.action': 'Action demandée (facultatif)', 'c.kind': 'Nature', 'c.asked': 'Ce qui est demandé',
  'c.respond_by': 'Répondre avant (facultatif, votre heure locale)', 'c.case': 'Dossier (facultatif)',
  'c.stix': 'Indicateurs STIX (facultatif, un fichier bundle STIX 2.1)',
  'c.stix.help': 'Joints comme le fait `comity notify --stix` : les objets du bundle vont dans le corps, scellés avec lui',
  'c.stix.count': '{n} objet(s) STIX joint(s).',
  'c.choose': 'Choisir…', 'c.none': 'Aucune', 'c.send': 'Signer et envoyer',
  'c.fix': 'Non envoyé : {n} champ(s) à corriger.', 'c.sent': '{type} {id} envoyé (entrée {index} du journal).',
  'c.refused': 'Le nœud l\'a refusé : {why}',
};

const ar = {
  'lang.label': 'اللغة',
  'nav.main': 'الرئيسية', 'nav.inbox': 'صندوق الوارد', 'nav.notification': 'إخطار جديد',
  'nav.request': 'طلب جديد', 'nav.ping': 'اختبار اتصال جديد', 'nav.pings': 'اختبارات الاتصال',
  'nav.directory': 'الدليل', 'nav.log': 'السجل', 'skip': 'انتقل إلى المحتوى',
  'who': 'مسجل الدخول باسم', 'logout': 'تسجيل الخروج', 'loading': 'جارٍ التحميل…',
  'inbox.title': 'صندوق الوارد', 'inbox.filters': 'تصفية صندوق الوارد', 'inbox.type': 'النوع',
  'inbox.state': 'الحالة', 'inbox.severity': 'الخطورة', 'inbox.sector': 'القطاع',
  'inbox.search': 'بحث (المعرّف، المرسل، المستلم)', 'all': 'الكل',
  'inbox.me': 'بانتظارك', 'inbox.others': 'بانتظار الآخرين',
  'inbox.nomatch': 'لا شيء يطابق عوامل التصفية.', 'inbox.empty.me': 'لا شيء بانتظارك.',
  'inbox.empty.others': 'لا شيء مما أرسلته بانتظار رد.',
  'inbox.more': 'عرض {n} أخرى (معروض {shown} من {total})',
  'col.due': 'الموعد', 'col.message': 'الرسالة', 'col.from': 'من', 'col.to': 'إلى',
  'col.state': 'الحالة', 'col.expects': 'المنتظر', 'col.severity': 'الخطورة', 'col.sector': 'القطاع',
  'overdue': 'متأخر', 'sealed': 'مختوم',
  'sealed.opened': 'فُتح في هذا المتصفح: لا تستطيع العقدة قراءته، ويتبع موعده الصف الافتراضي',
  'sealed.unknown': 'مختوم: افتح الرسالة لتراه هنا',
  'msg.title': 'الرسالة', 'msg.state': 'الحالة', 'msg.expects': 'ينتظر {what} قبل',
  'msg.thread': 'سلسلة الرسائل', 'msg.noanswer': 'لا رد بعد.',
  'msg.from': 'من', 'msg.to': 'إلى', 'msg.opened': 'فُتح في هذا المتصفح',
  'msg.verified': 'التوقيع متحقق منه', 'msg.unverified': 'التوقيع غير متحقق منه',
  'msg.cannotopen': 'مختوم: تعذّر فتحه ({why}).',
  'msg.sealeddue': 'المحتوى مختوم: تحدد العقدة موعد هذه الرسالة من غلافها (الخطورة غير معروفة، الصف الافتراضي).',
  'act.title': 'الإجراءات', 'act.pinghelp': 'اختبار اتصال: أجب عنه لتثبت أن جهة الاتصال هذه متاحة.',
  'act.pong': 'الرد على اختبار الاتصال', 'act.nothing': 'لا شيء مطلوب منك في هذه الرسالة.',
  'act.ack': 'إقرار بالاستلام', 'act.acknote': 'ملاحظة مع الإقرار (اختياري)',
  'act.reply': 'رد', 'act.outcome': 'النتيجة', 'act.answered': 'تمت الإجابة', 'act.declined': 'مرفوض',
  'act.answer': 'الإجابة', 'act.reasons': 'أسباب الرفض', 'act.sendreply': 'إرسال الرد',
  'act.close': 'إغلاق', 'act.closereason': 'سبب الإغلاق (اختياري)', 'act.closebtn': 'إغلاق الرسالة',
  'act.sent': 'أُرسل {type} (المدخل {index} في السجل).', 'act.notsent': 'لم يُرسل: {why}',
  'rc.title': 'الإيصال', 'rc.help': 'يثبت سجل العقدة أن هذا السجل وُجد. يجري التحقق في هذا المتصفح بمفتاح السجل.',
  'rc.check': 'تحقق من الإيصال', 'rc.ok': 'تم التحقق من الإيصال: المدخل {index} من {size} في سجل {origin}.',
  'rc.bad': 'لم يتم التحقق من الإيصال: {why}', 'rc.digest': 'البصمة', 'rc.entry': 'مدخل السجل',
  'rc.entryof': '{index} من {size}', 'rc.witnesses': 'الشهود', 'none': 'لا أحد',
  'rc.download': 'تنزيل الإيصال', 'rc.offline': '(تحقق منه دون اتصال باستخدام {cmd})',
  'c.notification': 'إخطار جديد', 'c.request': 'طلب جديد',
  'c.to': 'إلى (دول أو أطراف، مفصولة بفواصل)', 'c.to.help': 'مثلاً in أو in.cert-in',
  'c.tlp': 'المشاركة (TLP)', 'c.tlp.help': 'amber و red تُختم في هذا المتصفح للمستلمين',
  'c.severity': 'الخطورة (1-5)', 'c.severity.opt': 'الخطورة (اختياري)', 'c.sector': 'القطاع',
  'c.sector.opt': 'القطاع (اختياري)', 'c.summary': 'الملخص', 'c.norm.opt': 'القاعدة (اختياري)', 'c.norm': 'القاعدة',
  'c.action': 'الإجراء المطلوب (اختياري)', 'c.kind': 'النوع', 'c.asked': 'المطلوب',
  'c.respond_by': 'الرد قبل (اختياري، بتوقيتك المحلي)', 'c.case': 'القضية (اختياري)',
  'c.stix': 'مؤشرات STIX (اختياري، ملف حزمة STIX 2.1)',
  'c.stix.help': 'تُرفق كما يفعل `comity notify --stix`: تدخل كائنات الحزمة في المحتوى وتُختم معه',
  'c.stix.count': 'أُرفق {n} كائن STIX.',
  'c.choose': 'اختر…', 'c.none': 'لا شيء', 'c.send': 'توقيع وإرسال',
  'c.fix': 'لم يُرسل: {n} حقل يحتاج إلى تصحيح.', 'c.sent': 'أُرسل {type} {id} (المدخل {index} في السجل).',
  'c.refused': 'رفضته العقدة: {why}',
};

const CATALOGS = { en, fr, ar };
let lang = 'en';

export function t(key, vars) {
  const s = (CATALOGS[lang] && CATALOGS[lang][key]) || en[key] || key;
  return vars ? s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m)) : s;
}

export const current = () => lang;

// Sets the language (a code of LANGS, else English), remembers it and
// lays <html> out for it.
export function setLang(code) {
  const l = LANGS.find((x) => x.code === code) || LANGS[0];
  lang = l.code;
  try { localStorage.setItem('comity.lang', lang); } catch { /* storage off: this page only */ }
  document.documentElement.lang = lang;
  document.documentElement.dir = l.dir || 'ltr';
}

export function initLang() {
  let saved = null;
  try { saved = localStorage.getItem('comity.lang'); } catch { /* storage off */ }
  setLang(saved || 'en');
}

// completeness: every catalog's keys are English keys (a typo shows here)
export function unknownKeys() {
  return Object.entries(CATALOGS).flatMap(([c, cat]) => Object.keys(cat).filter((k) => !(k in en)).map((k) => `${c}:${k}`));
}
