/*
 * custody.c: the chain of custody of a case's items: who received, handled
 * and passed on an evidence file, when, with what SHA-256 and size.
 *
 * Three record types, each one kind of investigative action in the sense
 * of the CASE/UCO ontology's provenance (an action with a performer, an
 * instrument, an object and a result; docs/framework.md maps the fields):
 *
 *   custody-receive    the author received the item (from a party of the
 *                      case, naming the transfer it completes, or from an
 *                      outside source: a provider, a seized device)
 *   custody-handle     the author handled it (imaged, verified, examined),
 *                      possibly making a derived item (`result`)
 *   custody-transfer   the author passed it on to `recipient`
 *
 * A custody record is a record of its case (case.h's envelope rules:
 * refs[0] the case, from a party, to every other party, sealed when the
 * case is), accepted in any state of the case, open or closed, since
 * custody goes on until the item is destroyed; it does not move the case.
 * The chain is not a rule at intake (a broken chain is a fact worth
 * recording, not a record to refuse): it is a query that orders the
 * readable custody records of each item (by SHA-256) in log order and
 * flags each break:
 *
 *   not-holder      a party handled or passed on an item it did not hold
 *                   (the last holder was another party, or it was in
 *                   transit), or a receipt names as sender a party that
 *                   did not hold it
 *   not-recipient   received by a party other than the one it was passed to
 *   wrong-sender    received "from" another party than the one that
 *                   passed it on
 *   hash-changed    what was received is not what was passed on (another
 *                   SHA-256 or size than the transfer it completes)
 *   size-changed    the same SHA-256 reported with another size
 *   unknown-transfer  a receipt names a transfer not in this case
 *   time-order      an action dated (`at`) before the previous one
 *
 * The first record of an item makes its author the holder.  A node cannot
 * open a sealed record's body: such records are listed apart ("sealed"),
 * and a party's own client that feeds the opened bodies to its own handle
 * gets the whole chain (`comity case custody` does).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framework/custody.h"

#define TEXT(n, req) {n, CY_FK_TEXT, req, NULL, 0, 0}
#define NAME(n, req) {n, CY_FK_TEXT, req, NULL, 0, 256}
#define TIME(n, req) {n, CY_FK_TIME, req, NULL, 0, 0}
#define REF(n, req) {n, CY_FK_CUSTOM, req, NULL, 0, 0}
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

comity_err cy_fw_check_fileref(const char *t, const char *where, const json_t *v,
                               comity_error *err)
{
    if (!json_is_object(v))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.%s: want a document reference {\"sha256\", "
                       "\"size\", \"name\"}", t, where);
    const char *k;
    json_t *x;
    json_object_foreach((json_t *)v, k, x) {
        if (strcmp(k, "sha256") && strcmp(k, "size") && strcmp(k, "name"))
            return cy_fail(err, COMITY_ERR_INVALID, "%s.body.%s.%.64s: unknown field",
                           t, where, k);
    }
    json_t *h = json_object_get(v, "sha256"), *sz = json_object_get(v, "size"),
           *n = json_object_get(v, "name");
    if (!h || !json_is_string(h) || !hex64(json_string_value(h)))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.%s.sha256: want 64 lowercase hex digits (SHA-256)",
                       t, where);
    if (!sz || !json_is_integer(sz) || json_integer_value(sz) < 0 ||
        json_integer_value(sz) > ((json_int_t)1 << 53))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.%s.size: want an integer 0-%lld (bytes)", t, where,
                       (long long)((int64_t)1 << 53));
    if (n && (!json_is_string(n) || json_string_length(n) == 0 ||
              json_string_length(n) > CY_FILE_NAME_MAX))
        return cy_fail(err, COMITY_ERR_INVALID,
                       "%s.body.%s.name: want a string of 1-%d bytes", t, where,
                       CY_FILE_NAME_MAX);
    return COMITY_OK;
}

/* Adds {sha256, size, name} of the reference v to files, once. */
static int file_put(json_t *files, const json_t *v)
{
    const char *h = json_string_value(json_object_get(v, "sha256"));
    if (!h || !hex64(h) || json_object_get(files, h))
        return 0;
    json_t *o = json_object();
    json_t *sz = json_object_get(v, "size"), *n = json_object_get(v, "name");
    if (!o || json_object_set_new(o, "sha256", json_string(h)) ||
        (json_is_integer(sz) && json_object_set(o, "size", sz)) ||
        (json_is_string(n) && json_object_set(o, "name", n)) ||
        json_object_set_new(files, h, o))
        return -1;
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

static comity_err check_item(const char *t, const json_t *b, comity_error *err)
{
    comity_err rc = cy_fw_check_fileref(t, "item", json_object_get(b, "item"), err);
    if (!rc && json_object_get(b, "result"))
        rc = cy_fw_check_fileref(t, "result", json_object_get(b, "result"), err);
    return rc;
}

static const cy_field f_receive[] = {
    REF("item", true), NAME("from", true), {"transfer", CY_FK_TEXT, false, NULL, 0, 128},
    NAME("instrument", false), TIME("at", false), NAME("location", false),
    TEXT("note", false), END};
static const cy_field f_handle[] = {
    REF("item", true), NAME("action", true), NAME("instrument", false),
    REF("result", false), TIME("at", false), NAME("location", false),
    TEXT("note", false), END};
static const cy_field f_transfer[] = {
    REF("item", true), NAME("recipient", true), NAME("instrument", false),
    TIME("at", false), NAME("location", false), TEXT("note", false), END};

const cy_case_type cy_custody_types[] = {
    {"custody-receive", f_receive, check_item},
    {"custody-handle", f_handle, check_item},
    {"custody-transfer", f_transfer, check_item},
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
    struct cy_custody *cu = fw->custody;
    if (cy_fw_grow((void **)&cu->e, &cu->cap, cu->n, sizeof *cu->e))
        return cy_fw_nomem(err);
    cust_entry e = {cy_strdup(comity_record_id(rec)), cy_strdup(type),
                    cy_strdup(comity_record_author(rec)), created, c,
                    body ? json_incref(body) : NULL};
    if (!e.id || !e.type || !e.author ||
        json_object_set_new(fw->ids, e.id, json_integer(-1))) {
        entry_clear(&e);
        return cy_fw_nomem(err);
    }
    cu->e[cu->n++] = e;
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
        if (e->c != c || !e->body)
            continue;
        if (file_put(files, json_object_get(e->body, "item")) ||
            (json_object_get(e->body, "result") &&
             file_put(files, json_object_get(e->body, "result"))))
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
    const char *holder;        /* the party holding it; NULL: in transit */
    const cust_entry *pending; /* the transfer not yet received */
    int64_t last_at;
    json_t *chain;             /* links */
    size_t breaks;
} item;

typedef struct chain {
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

/* The transfer record `id` of case c logged before entry `before`,
 * readable, or NULL. */
static const cust_entry *find_transfer(const struct cy_custody *cu, const cy_case *c,
                                       const char *id, const cust_entry *before)
{
    for (size_t i = 0; id && &cu->e[i] < before; i++)
        if (cu->e[i].c == c && cu->e[i].body && !strcmp(cu->e[i].id, id) &&
            !strcmp(cu->e[i].type, "custody-transfer"))
            return &cu->e[i];
    return NULL;
}

static const char *holder_text(const item *it)
{
    return it->holder ? it->holder : "nobody (it was in transit)";
}

/* Appends link l (a new reference) to item it, counting its breaks. */
static void put_link(chain *ch, item *it, json_t *l)
{
    it->breaks += json_array_size(json_object_get(l, "breaks"));
    if (!l || json_array_append(it->chain, l))
        ch->oom = true;
}

static void walk(const struct cy_custody *cu, const cy_case *c, const cust_entry *e,
                 chain *ch)
{
    const json_t *b = e->body, *ref = json_object_get(b, "item");
    int64_t at = e->created;
    if (str(b, "at"))
        at = cy_fw_time(str(b, "at"));
    const char *action = e->type + strlen("custody-");
    json_t *l = json_pack("{s:s, s:s, s:s, s:o, s:o, s:O, s:[]}", "id", e->id, "action",
                          action, "author", e->author, "created",
                          cy_fw_time_json(e->created), "at", cy_fw_time_json(at), "item",
                          ref, "breaks");
    if (!l) {
        ch->oom = true;
        return;
    }
    static const char *const extra[] = {"from", "recipient", "transfer", "instrument",
                                        "location", "action", "note", NULL};
    for (size_t i = 0; extra[i]; i++) {
        const char *k = !strcmp(extra[i], "action") ? "what" : extra[i];
        if (str(b, extra[i]) && json_object_set_new(l, k, json_string(str(b, extra[i]))))
            ch->oom = true;
    }
    if (json_object_get(b, "result") && json_object_set(l, "result", json_object_get(b, "result")))
        ch->oom = true;
    item *it = item_get(ch, ref);
    int64_t size = ref_size(ref);
    if (it->size >= 0 && size != it->size)
        brk(ch, l, "size-changed", "%s reports %lld bytes; earlier links said %lld",
            e->author, (long long)size, (long long)it->size);
    if (it->size < 0)
        it->size = size;
    if (!it->name)
        it->name = str(ref, "name");
    if (it->started && at < it->last_at)
        brk(ch, l, "time-order", "dated before the previous link of this item");
    if (!strcmp(action, "receive")) {
        const char *from = str(b, "from"), *tid = str(b, "transfer");
        const cust_entry *t = tid ? find_transfer(cu, c, tid, e) : it->pending;
        if (tid && !t)
            brk(ch, l, "unknown-transfer", "no readable custody-transfer %.100s in case %s",
                tid, c->id);
        if (t) {
            const json_t *tb = t->body, *tref = json_object_get(tb, "item");
            item *tit = item_get(ch, tref);
            if (strcmp(str(tb, "recipient"), e->author))
                brk(ch, l, "not-recipient", "%s passed it to %s, not to %s", t->author,
                    str(tb, "recipient"), e->author);
            if (strcmp(from, t->author))
                brk(ch, l, "wrong-sender", "received from %s, but %s passed it on", from,
                    t->author);
            if (tit != it || ref_size(tref) != size) {
                brk(ch, l, "hash-changed", "received %s (%lld bytes); %s passed on %s "
                    "(%lld bytes) in %s", it->sha, (long long)size, t->author, tit->sha,
                    (long long)ref_size(tref), t->id);
                if (tit != it) { /* the transferred item's chain shows it too */
                    put_link(ch, tit, l);
                    tit->pending = NULL;
                    tit->last_at = at > tit->last_at ? at : tit->last_at;
                }
            }
            if (tit->pending == t)
                tit->pending = NULL;
        } else if (it->started && it->holder && strcmp(from, it->holder) &&
                   cy_case_roles(c, from)) {
            brk(ch, l, "not-holder", "received from %s, who did not hold it (%s did)", from,
                it->holder);
        }
        it->holder = e->author;
        it->pending = NULL;
    } else if (!strcmp(action, "handle")) {
        if (it->started && (!it->holder || strcmp(it->holder, e->author)))
            brk(ch, l, "not-holder", "handled by %s, who did not hold it (held by %s)",
                e->author, holder_text(it));
        if (!it->started)
            it->holder = e->author;
    } else { /* transfer */
        if (it->started && (!it->holder || strcmp(it->holder, e->author)))
            brk(ch, l, "not-holder", "passed on by %s, who did not hold it (held by %s)",
                e->author, holder_text(it));
        it->holder = NULL;
        it->pending = e;
    }
    it->started = true;
    if (at > it->last_at)
        it->last_at = at;
    put_link(ch, it, l);
    const json_t *res = json_object_get(b, "result");
    if (res) { /* a derived item: its chain starts here, held by the author */
        item *r = item_get(ch, res);
        if (r != it) {
            json_t *d = json_pack("{s:s, s:s, s:s, s:o, s:o, s:O, s:s, s:[]}", "id", e->id,
                                  "action", "derive", "author", e->author, "created",
                                  cy_fw_time_json(e->created), "at", cy_fw_time_json(at),
                                  "item", res, "derived_from", it->sha, "breaks");
            if (r->size < 0)
                r->size = ref_size(res);
            if (!r->name)
                r->name = str(res, "name");
            r->started = true;
            r->holder = e->author;
            r->last_at = at > r->last_at ? at : r->last_at;
            put_link(ch, r, d);
            json_decref(d);
        }
    }
    json_decref(l);
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
        n += cu->e[i].c == c;
    chain ch = {.it = cy_calloc(3 * n + 1, sizeof *ch.it)}; /* an item, its
                                                                  * result, a transfer's */
    json_t *sealed = json_array();
    ch.oom = !ch.it || !sealed;
    for (size_t i = 0; !ch.oom && i < cu->n; i++) {
        const cust_entry *e = &cu->e[i];
        if (e->c != c)
            continue;
        if (e->body) {
            walk(cu, c, e, &ch);
            continue;
        }
        json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "id", e->id, "action",
                              e->type + strlen("custody-"), "author", e->author,
                              "created", cy_fw_time_json(e->created));
        if (!o || json_array_append_new(sealed, o))
            ch.oom = true;
    }
    json_t *items = json_array();
    ch.oom |= !items;
    for (size_t i = 0; !ch.oom && i < ch.n; i++) {
        const item *it = &ch.it[i];
        json_t *o = json_pack("{s:s, s:I, s:o, s:o, s:o, s:b, s:I, s:O}", "sha256", it->sha,
                              "size", (json_int_t)it->size, "name",
                              it->name ? json_string(it->name) : json_null(), "holder",
                              it->holder ? json_string(it->holder) : json_null(),
                              "in_transit_to",
                              it->pending ? json_string(str(it->pending->body, "recipient"))
                                          : json_null(),
                              "intact", it->breaks == 0, "breaks", (json_int_t)it->breaks,
                              "chain", it->chain);
        if (!o || json_array_append_new(items, o))
            ch.oom = true;
    }
    for (size_t i = 0; ch.it && i < ch.n; i++)
        json_decref(ch.it[i].chain);
    cy_free(ch.it);
    json_t *o = NULL;
    if (!ch.oom)
        o = json_pack("{s:s, s:s, s:I, s:o, s:o}", "case", c->id, "mechanism", c->m->name,
                      "breaks", (json_int_t)ch.breaks, "items", items, "sealed", sealed);
    else {
        json_decref(items);
        json_decref(sealed);
    }
    if (!o)
        return cy_fw_nomem(err);
    return cy_fw_dump(o, json, err);
}
