/*
 * custody.c: the chain of custody of a case's files: who received, handled
 * and passed on an evidence file, when, with what SHA-256 and size.
 *
 * Three record types, each one kind of investigative action in the sense
 * of the CASE/UCO ontology's provenance (an action with a performer, an
 * instrument, an object and a result; docs/framework.md maps the fields).
 * Each names its files as the case core does (`files`: [{sha256, size,
 * name, media_type}], case.h's CY_FK_FILES):
 *
 *   custody-receive    the author received the files (from a party of the
 *                      case, naming the transfer it completes, or from an
 *                      outside source: a provider, a seized device)
 *   custody-handle     the author handled them (imaged, verified,
 *                      examined), possibly making derived files (`results`)
 *   custody-transfer   the author passed them on to `recipient`
 *
 * A custody record is a record of its case (case.h's envelope rules:
 * refs[0] the case, from a party, to every other party, sealed when the
 * case is), accepted in any state of the case, open or closed, since
 * custody goes on until the file is destroyed; it does not move the case,
 * so it is no row of a status table.  Destruction records (retention.c)
 * join the same list, so that a chain ends with them.
 *
 * The chain is not a rule at intake (a broken chain is a fact worth
 * recording, not a record to refuse): it is a query that orders the
 * readable records of each file (by SHA-256) in log order and flags each
 * break:
 *
 *   not-holder      a party handled or passed on a file it did not hold
 *                   (the last holder was another party, or it was in
 *                   transit), or a receipt names as sender a party that
 *                   did not hold it
 *   not-recipient   received by a party other than the one it was passed to
 *   wrong-sender    received "from" another party than the one that
 *                   passed it on
 *   hash-changed    what was received is not what was passed on (a file
 *                   the transfer did not list, another size, or a listed
 *                   file not received)
 *   size-changed    the same SHA-256 reported with another size
 *   unknown-transfer  a receipt names a transfer not in this case
 *   time-order      an action dated (`at`) before the previous one
 *   after-destruction  a custody record about a destroyed file
 *
 * The first record of a file makes its author the holder.  A node cannot
 * open a sealed record's body: such records are listed apart ("sealed"),
 * and a party's own client that feeds the opened bodies to its own handle
 * gets the whole chain (`comity case custody` does).  The chain is built
 * per query from the case's records, finding files by a linear search
 * (quadratic in the files of one case, which are tens, not thousands);
 * nothing is kept but the records.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framework/custody.h"

#define TEXT(n, req) {n, CY_FK_TEXT, req, NULL, 0, 0}
#define NAME(n, req) {n, CY_FK_TEXT, req, NULL, 0, 256}
#define TIME(n, req) {n, CY_FK_TIME, req, NULL, 0, 0}
#define FILES(n, req) {n, CY_FK_FILES, req, NULL, 0, 0}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

/* ---- document references ----------------------------------------------------- */

static bool hex64(const char *s)
{
    size_t i = 0;
    for (; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 64;
}

/* Adds {sha256, size, name, media_type} of the reference v to files, once. */
static int file_put(json_t *files, const json_t *v)
{
    const char *h = json_string_value(json_object_get(v, "sha256"));
    if (!h || !hex64(h) || json_object_get(files, h))
        return 0;
    json_t *o = json_object();
    static const char *const keep[] = {"size", "name", "media_type", NULL};
    if (!o || json_object_set_new(o, "sha256", json_string(h)) ||
        json_object_set_new(files, h, o))
        return -1;
    for (size_t i = 0; keep[i]; i++) {
        json_t *x = json_object_get(v, keep[i]);
        if (x && (json_is_integer(x) || json_is_string(x)) && json_object_set(o, keep[i], x))
            return -1;
    }
    return 0;
}

int cy_fw_body_files(const json_t *body, json_t *files)
{
    if (json_is_object(body)) {
        if (json_is_string(json_object_get(body, "sha256")) && file_put(files, body))
            return -1;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)body, k, v) {
            if (cy_fw_body_files(v, files))
                return -1;
        }
    } else if (json_is_array(body)) {
        size_t i;
        json_t *v;
        json_array_foreach(body, i, v) {
            if (cy_fw_body_files(v, files))
                return -1;
        }
    }
    return 0;
}

/* ---- types ------------------------------------------------------------------------ */

static const cy_field f_receive[] = {
    FILES("files", true), NAME("from", true), {"transfer", CY_FK_TEXT, false, NULL, 0, 128},
    NAME("instrument", false), TIME("at", false), NAME("location", false),
    TEXT("note", false), END};
static const cy_field f_handle[] = {
    FILES("files", true), NAME("action", true), NAME("instrument", false),
    FILES("results", false), TIME("at", false), NAME("location", false),
    TEXT("note", false), END};
static const cy_field f_transfer[] = {
    FILES("files", true), NAME("recipient", true), NAME("instrument", false),
    TIME("at", false), NAME("location", false), TEXT("note", false), END};

const cy_case_type cy_custody_types[] = {
    {"custody-receive", f_receive, NULL},
    {"custody-handle", f_handle, NULL},
    {"custody-transfer", f_transfer, NULL},
};
const size_t cy_custody_ntypes = CY_ARRAY_LEN(cy_custody_types);

const cy_case_type *cy_custody_type(const char *type)
{
    for (size_t i = 0; type && i < cy_custody_ntypes; i++)
        if (!strcmp(cy_custody_types[i].name, type))
            return &cy_custody_types[i];
    return NULL;
}

/* ---- the handle's part ----------------------------------------------------------- */

typedef struct cust_entry {
    char *id, *type, *author;
    int64_t created;
    const cy_case *c; /* borrowed: cases live as long as the handle */
    json_t *body;     /* owned; NULL when sealed and not given */
} cust_entry;

struct cy_custody {
    cust_entry *e;
    size_t n, cap;
};

static comity_err custody_init(comity_framework *fw, comity_error *err)
{
    if (!(fw->custody = cy_calloc(1, sizeof *fw->custody)))
        return cy_fw_nomem(err);
    return COMITY_OK;
}

static void entry_clear(cust_entry *e)
{
    cy_free(e->id);
    cy_free(e->type);
    cy_free(e->author);
    json_decref(e->body);
}

static void custody_clear(comity_framework *fw)
{
    struct cy_custody *cu = fw->custody;
    if (!cu)
        return;
    for (size_t i = 0; i < cu->n; i++)
        entry_clear(&cu->e[i]);
    cy_free(cu->e);
    cy_free(cu);
    fw->custody = NULL;
}

comity_err cy_custody_append(comity_framework *fw, const cy_case *c,
                             const comity_record *rec, const json_t *body,
                             int64_t created, comity_error *err)
{
    struct cy_custody *cu = fw->custody;
    if (cy_fw_grow((void **)&cu->e, &cu->cap, cu->n, sizeof *cu->e))
        return cy_fw_nomem(err);
    cust_entry e = {cy_strdup(comity_record_id(rec)), cy_strdup(comity_record_type(rec)),
                    cy_strdup(comity_record_author(rec)), created, c,
                    body ? json_incref((json_t *)body) : NULL};
    if (!e.id || !e.type || !e.author) {
        entry_clear(&e);
        return cy_fw_nomem(err);
    }
    cu->e[cu->n++] = e;
    return COMITY_OK;
}

void cy_custody_drop_last(comity_framework *fw)
{
    struct cy_custody *cu = fw->custody;
    if (cu->n)
        entry_clear(&cu->e[--cu->n]);
}

static comity_err custody_add(comity_framework *fw, enum cy_fw_type ft,
                              const comity_record *rec, json_t *body,
                              int64_t created, bool dry, comity_error *err)
{
    (void)ft;
    const char *type = comity_record_type(rec);
    const cy_case_type *t = cy_custody_type(type);
    if (!t)
        return cy_fail(err, COMITY_ERR_INTERNAL, "%s: not a custody type", type);
    comity_err rc;
    cy_case *c = NULL;
    if ((body && (rc = cy_case_check_body(t, body, err))) ||
        (rc = cy_case_envelope(fw, type, rec, created, false, &c, err)))
        return rc;
    if (dry)
        return COMITY_OK;
    if ((rc = cy_custody_append(fw, c, rec, body, created, err)))
        return rc;
    if (json_object_set_new(fw->ids, comity_record_id(rec), json_integer(-1))) {
        cy_custody_drop_last(fw);
        return cy_fw_nomem(err);
    }
    return COMITY_OK;
}

const cy_fw_mech cy_fw_mech_custody = {
    .name = "custody",
    .types = CY_FW_BIT(CY_FW_CUSTODY),
    .init = custody_init,
    .clear = custody_clear,
    .add = custody_add,
};

int cy_custody_files(const comity_framework *fw, const cy_case *c, json_t *files)
{
    const struct cy_custody *cu = fw->custody;
    for (size_t i = 0; i < cu->n; i++) {
        const cust_entry *e = &cu->e[i];
        if (e->c == c && e->body && cy_fw_body_files(e->body, files))
            return -1;
    }
    return 0;
}

/* ---- the chain ------------------------------------------------------------------- */

typedef struct item {
    const char *sha;           /* borrowed from a body */
    int64_t size;              /* -1: not known yet */
    const char *name;
    bool started;
    const char *holder;        /* the party holding it; NULL: in transit or gone */
    const cust_entry *pending; /* the transfer not yet received */
    const cust_entry *destroyed; /* the destruction record */
    int64_t last_at;
    json_t *chain;             /* links */
    size_t breaks;
} item;

typedef struct chain {
    const struct cy_custody *cu;
    const cy_case *c;
    item *it;
    size_t n;
    size_t breaks;
    bool oom;
} chain;

static item *item_get(chain *ch, const json_t *ref)
{
    const char *sha = json_string_value(json_object_get(ref, "sha256"));
    for (size_t i = 0; i < ch->n; i++)
        if (!strcmp(ch->it[i].sha, sha))
            return &ch->it[i];
    item *it = &ch->it[ch->n++];
    *it = (item){.sha = sha, .size = -1, .last_at = INT64_MIN, .chain = json_array()};
    if (!it->chain)
        ch->oom = true;
    return it;
}

static const char *str(const json_t *b, const char *k)
{
    return json_string_value(json_object_get(b, k));
}

static int64_t ref_size(const json_t *ref)
{
    return (int64_t)json_integer_value(json_object_get(ref, "size"));
}

/* The file `sha` among the `files` of body b, or NULL. */
static const json_t *listed(const json_t *b, const char *sha)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(b, "files"), i, f)
        if (!strcmp(str(f, "sha256"), sha))
            return f;
    return NULL;
}

/* Notes a break on link `l`: {"rule", "detail"}. */
static void brk(chain *ch, json_t *l, const char *rule, const char *fmt, ...)
    CY_PRINTF(4, 5);
static void brk(chain *ch, json_t *l, const char *rule, const char *fmt, ...)
{
    char d[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d, sizeof d, fmt, ap);
    va_end(ap);
    json_t *o = json_pack("{s:s, s:s}", "rule", rule, "detail", d);
    if (!o || json_array_append_new(json_object_get(l, "breaks"), o))
        ch->oom = true;
    ch->breaks++;
}

/* The transfer a receipt completes, among the readable records of the case
 * logged before it: the one it names (`transfer`), else the latest from
 * its `from` to its author. */
static const cust_entry *transfer_of(const chain *ch, const cust_entry *e)
{
    const char *tid = str(e->body, "transfer"), *from = str(e->body, "from");
    const cust_entry *t = NULL;
    for (const cust_entry *x = ch->cu->e; x < e; x++) {
        if (x->c != ch->c || !x->body || strcmp(x->type, "custody-transfer"))
            continue;
        if (tid ? !strcmp(x->id, tid)
                : !strcmp(x->author, from) && !strcmp(str(x->body, "recipient"), e->author))
            t = x;
    }
    return t;
}

static const char *holder_text(const item *it)
{
    return it->holder ? it->holder : it->destroyed ? "nobody: it was destroyed"
                                                   : "nobody: it was in transit";
}

/* A new link of entry e for file f. */
static json_t *link_new(chain *ch, const cust_entry *e, const char *action, const json_t *f,
                        int64_t at)
{
    json_t *l = json_pack("{s:s, s:s, s:s, s:o, s:o, s:O, s:[]}", "id", e->id, "action",
                          action, "author", e->author, "created",
                          cy_fw_time_json(e->created), "at", cy_fw_time_json(at), "file", f,
                          "breaks");
    static const char *const extra[] = {"from", "recipient", "transfer", "instrument",
                                        "location", "action", "reason", "rule", "note", NULL};
    for (size_t i = 0; l && extra[i]; i++) {
        const char *k = !strcmp(extra[i], "action") ? "what" : extra[i];
        if (str(e->body, extra[i]) &&
            json_object_set_new(l, k, json_string(str(e->body, extra[i]))))
            ch->oom = true;
    }
    if (!l)
        ch->oom = true;
    return l;
}

/* Appends link l (borrowed) to item it, counting its breaks. */
static void put_link(chain *ch, item *it, json_t *l)
{
    if (!l)
        return;
    it->breaks += json_array_size(json_object_get(l, "breaks"));
    if (json_array_append(it->chain, l))
        ch->oom = true;
}

/* The checks every link makes, and the item's bookkeeping after it. */
static void common(chain *ch, item *it, json_t *l, const cust_entry *e, const json_t *f,
                   int64_t at)
{
    int64_t size = ref_size(f);
    if (it->size >= 0 && size != it->size)
        brk(ch, l, "size-changed", "%s reports %lld bytes; earlier links said %lld",
            e->author, (long long)size, (long long)it->size);
    if (it->size < 0)
        it->size = size;
    if (!it->name)
        it->name = str(f, "name");
    if (it->started && at < it->last_at)
        brk(ch, l, "time-order", "dated before the previous link of this item");
    if (it->destroyed)
        brk(ch, l, "after-destruction", "the item was destroyed by %s", it->destroyed->id);
}

static void after(item *it, int64_t at)
{
    it->started = true;
    if (at > it->last_at)
        it->last_at = at;
}

static void walk_receive(chain *ch, const cust_entry *e, int64_t at)
{
    const json_t *b = e->body;
    const char *from = str(b, "from"), *tid = str(b, "transfer");
    const cust_entry *t = transfer_of(ch, e);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(b, "files"), i, f) {
        json_t *l = link_new(ch, e, "receive", f, at);
        item *it = item_get(ch, f);
        if (!l || ch->oom) {
            json_decref(l);
            return;
        }
        common(ch, it, l, e, f, at);
        if (tid && !t)
            brk(ch, l, "unknown-transfer", "no readable custody-transfer %.100s to %s in case %s",
                tid, e->author, ch->c->id);
        const cust_entry *p = t ? t : it->pending;
        if (p) {
            const json_t *sent = listed(p->body, it->sha);
            if (strcmp(str(p->body, "recipient"), e->author))
                brk(ch, l, "not-recipient", "%s passed it to %s, not to %s", p->author,
                    str(p->body, "recipient"), e->author);
            if (strcmp(from, p->author))
                brk(ch, l, "wrong-sender", "received from %s, but %s passed it on", from,
                    p->author);
            if (!sent)
                brk(ch, l, "hash-changed", "received %s (%lld bytes), which %s did not pass "
                    "on in %s", it->sha, (long long)ref_size(f), p->author, p->id);
            else if (ref_size(sent) != ref_size(f))
                brk(ch, l, "hash-changed", "received %lld bytes; %s passed on %lld in %s",
                    (long long)ref_size(f), p->author, (long long)ref_size(sent), p->id);
        } else if (it->started && it->holder && strcmp(from, it->holder) &&
                   cy_case_roles(ch->c, from)) {
            brk(ch, l, "not-holder", "received from %s, who did not hold it (%s did)", from,
                it->holder);
        }
        it->holder = e->author;
        it->pending = NULL;
        after(it, at);
        put_link(ch, it, l);
        json_decref(l);
    }
    /* what the transfer passed on and this receipt does not list: changed
     * on the way (or lost), on the transferred item's chain */
    json_array_foreach(t ? json_object_get(t->body, "files") : NULL, i, f) {
        if (listed(b, str(f, "sha256")))
            continue;
        item *it = item_get(ch, f);
        if (it->pending != t)
            continue;
        json_t *l = link_new(ch, e, "receive", f, at);
        if (!l || ch->oom) {
            json_decref(l);
            return;
        }
        brk(ch, l, "hash-changed", "%s passed on %s (%lld bytes) in %s; %s received other "
            "files", t->author, it->sha, (long long)ref_size(f), t->id, e->author);
        it->pending = NULL;
        after(it, at);
        put_link(ch, it, l);
        json_decref(l);
    }
}

static void walk(chain *ch, const cust_entry *e)
{
    const json_t *b = e->body;
    int64_t at = e->created;
    if (str(b, "at"))
        at = cy_fw_time(str(b, "at"));
    const char *action = !strcmp(e->type, "evidence-destruction") ? "destroy"
                                                                  : e->type + strlen("custody-");
    if (!strcmp(action, "receive")) {
        walk_receive(ch, e, at);
        return;
    }
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(b, "files"), i, f) {
        json_t *l = link_new(ch, e, action, f, at);
        item *it = item_get(ch, f);
        if (!l || ch->oom) {
            json_decref(l);
            return;
        }
        common(ch, it, l, e, f, at);
        bool mine = !it->started || (it->holder && !strcmp(it->holder, e->author));
        if (!strcmp(action, "handle") || !strcmp(action, "transfer")) {
            if (!mine)
                brk(ch, l, "not-holder", "%s by %s, who did not hold it (held by %s)",
                    !strcmp(action, "handle") ? "handled" : "passed on", e->author,
                    holder_text(it));
            if (!it->started)
                it->holder = e->author;
        }
        if (!strcmp(action, "transfer")) {
            it->holder = NULL;
            it->pending = e;
        } else if (!strcmp(action, "destroy")) {
            if (!it->destroyed)
                it->destroyed = e;
            it->holder = NULL;
            it->pending = NULL;
        }
        after(it, at);
        put_link(ch, it, l);
        json_decref(l);
    }
    /* derived items: their chains start here, held by the author */
    json_array_foreach(json_object_get(b, "results"), i, f) {
        item *r = item_get(ch, f);
        json_t *l = link_new(ch, e, "derive", f, at), *from = json_array();
        size_t k;
        json_t *g;
        json_array_foreach(json_object_get(b, "files"), k, g)
            if (from && json_array_append(from, json_object_get(g, "sha256")))
                ch->oom = true;
        if (!l || !from || ch->oom || json_object_set_new(l, "derived_from", from)) {
            if (l)
                json_decref(from);
            json_decref(l);
            ch->oom = true;
            return;
        }
        common(ch, r, l, e, f, at);
        r->holder = e->author;
        r->pending = NULL;
        after(r, at);
        put_link(ch, r, l);
        json_decref(l);
    }
}

comity_err comity_framework_custody(const comity_framework *fw, const char *case_id,
                                    const char *party, char **json, comity_error *err)
{
    *json = NULL;
    const cy_case *c = case_id ? cy_case_find(fw, case_id) : NULL;
    /* the same answer for an unknown case and one the party is not in */
    if (!c || (party && !cy_case_roles(c, party)))
        return cy_fail(err, COMITY_ERR_NOTFOUND, "custody: no case %.100s%s%.64s",
                       case_id ? case_id : "(null)", party ? " known to " : "",
                       party ? party : "");
    const struct cy_custody *cu = fw->custody;
    size_t n = 0;
    for (size_t i = 0; i < cu->n; i++)
        if (cu->e[i].c == c && cu->e[i].body)
            n += json_array_size(json_object_get(cu->e[i].body, "files")) +
                 json_array_size(json_object_get(cu->e[i].body, "results"));
    chain ch = {.cu = cu, .c = c, .it = cy_calloc(n + 1, sizeof *ch.it)};
    json_t *sealed = json_array(), *records = json_array();
    ch.oom = !ch.it || !sealed || !records;
    for (size_t i = 0; !ch.oom && i < cu->n; i++) {
        const cust_entry *e = &cu->e[i];
        if (e->c != c)
            continue;
        json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "id", e->id, "type", e->type, "author",
                              e->author, "created", cy_fw_time_json(e->created));
        if (!o || json_array_append(records, o) ||
            (!e->body && json_array_append(sealed, o)))
            ch.oom = true;
        json_decref(o);
        if (e->body)
            walk(&ch, e);
    }
    json_t *items = json_array();
    ch.oom |= !items;
    for (size_t i = 0; !ch.oom && i < ch.n; i++) {
        const item *it = &ch.it[i];
        json_t *gone = it->destroyed ? json_pack("{s:o, s:s}", "at",
                                                 cy_fw_time_json(it->destroyed->created),
                                                 "record", it->destroyed->id)
                                     : json_null();
        json_t *o = json_pack("{s:s, s:I, s:o, s:o, s:o, s:o, s:b, s:I, s:O}", "sha256",
                              it->sha, "size", (json_int_t)it->size, "name",
                              it->name ? json_string(it->name) : json_null(), "holder",
                              it->holder ? json_string(it->holder) : json_null(),
                              "in_transit_to",
                              it->pending ? json_string(str(it->pending->body, "recipient"))
                                          : json_null(),
                              "destroyed", gone, "intact", it->breaks == 0, "breaks",
                              (json_int_t)it->breaks, "chain", it->chain);
        if (!o || json_array_append_new(items, o))
            ch.oom = true;
    }
    for (size_t i = 0; ch.it && i < ch.n; i++)
        json_decref(ch.it[i].chain);
    cy_free(ch.it);
    json_t *o = NULL;
    if (!ch.oom)
        o = json_pack("{s:s, s:s, s:I, s:o, s:o, s:o}", "case", c->id, "mechanism",
                      c->m->name, "breaks", (json_int_t)ch.breaks, "items", items, "sealed",
                      sealed, "records", records);
    else {
        json_decref(items);
        json_decref(sealed);
        json_decref(records);
    }
    if (!o)
        return cy_fw_nomem(err);
    return cy_fw_dump(o, json, err);
}
