/*
 * pattern_print.c: everything that reads a parsed pattern tree without
 * changing it: the canonical printer, the JSON dump, structural equality,
 * and the comparison walker the sweep compiler uses.
 *
 * The printer emits parentheses only where the tree needs them to parse
 * back to the same shape (see the shape guarantees in pattern.h): a child
 * whose operator binds less tightly than its parent's, a FOLLOWEDBY nested in
 * a FOLLOWEDBY, and any composite node that carries qualifiers.  Nothing
 * here allocates except into the caller's cy_buf (and, for the JSON dump,
 * jansson values that are released before returning).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stix/pattern.h"

const char *cy_pat_op_name(cy_pat_op op)
{
    switch (op) {
    case CY_OP_EQ: return "=";
    case CY_OP_NEQ: return "!=";
    case CY_OP_LT: return "<";
    case CY_OP_LE: return "<=";
    case CY_OP_GT: return ">";
    case CY_OP_GE: return ">=";
    case CY_OP_IN: return "IN";
    case CY_OP_LIKE: return "LIKE";
    case CY_OP_MATCHES: return "MATCHES";
    case CY_OP_ISSUBSET: return "ISSUBSET";
    case CY_OP_ISSUPERSET: return "ISSUPERSET";
    case CY_OP_EXISTS: return "EXISTS";
    }
    return "?";
}

/* ---- printer --------------------------------------------------------- */

static comity_err put_quoted(cy_buf *b, const char *s, size_t len)
{
    comity_err rc = cy_buf_append(b, "'", 1);
    size_t run = 0;
    for (size_t i = 0; rc == COMITY_OK && i < len; i++) {
        if (s[i] == '\'' || s[i] == '\\') {
            rc = cy_buf_append(b, s + run, i - run);
            if (rc == COMITY_OK)
                rc = cy_buf_append(b, "\\", 1);
            run = i;
        }
    }
    if (rc == COMITY_OK)
        rc = cy_buf_append(b, s + run, len - run);
    if (rc == COMITY_OK)
        rc = cy_buf_append(b, "'", 1);
    return rc;
}

comity_err cy_pattern_print_lit(const cy_pat_lit *l, cy_buf *b)
{
    switch (l->kind) {
    case CY_LIT_STRING:
        return put_quoted(b, l->s, l->len);
    case CY_LIT_INT:
        return cy_buf_printf(b, "%" PRId64, l->i);
    case CY_LIT_FLOAT:
        return cy_buf_append(b, l->s, l->len);
    case CY_LIT_BOOL:
        return cy_buf_puts(b, l->i ? "true" : "false");
    case CY_LIT_TIMESTAMP:
        return cy_buf_printf(b, "t'%s'", l->s);
    case CY_LIT_HEX: {
        comity_err rc = cy_buf_puts(b, "h'");
        for (size_t i = 0; rc == COMITY_OK && i < l->len; i++)
            rc = cy_buf_printf(b, "%02x", l->bytes[i]);
        return rc == COMITY_OK ? cy_buf_puts(b, "'") : rc;
    }
    case CY_LIT_BINARY: {
        char *enc = cy_b64_encode_alloc(l->bytes, l->len, CY_B64_STD);
        if (!enc)
            return COMITY_ERR_NOMEM;
        comity_err rc = cy_buf_printf(b, "b'%s'", enc);
        cy_free(enc);
        return rc;
    }
    }
    return COMITY_ERR_INTERNAL;
}

comity_err cy_pattern_print_path(const cy_pat_path *path, cy_buf *b)
{
    comity_err rc = cy_buf_append(b, path->type, path->type_len);
    if (rc == COMITY_OK)
        rc = cy_buf_append(b, ":", 1);
    for (size_t i = 0; rc == COMITY_OK && i < path->nsteps; i++) {
        const cy_pat_step *st = &path->steps[i];
        switch (st->kind) {
        case CY_STEP_KEY:
            if (i > 0)
                rc = cy_buf_append(b, ".", 1);
            if (rc == COMITY_OK)
                rc = st->quoted ? put_quoted(b, st->key, st->key_len)
                                : cy_buf_append(b, st->key, st->key_len);
            break;
        case CY_STEP_INDEX:
            rc = cy_buf_printf(b, "[%" PRId64 "]", st->index);
            break;
        case CY_STEP_ANY:
            rc = cy_buf_puts(b, "[*]");
            break;
        }
    }
    return rc;
}

static comity_err print_cmp(const cy_pat_cmp *c, cy_buf *b)
{
    comity_err rc = COMITY_OK;
    if (c->op == CY_OP_EXISTS) {
        rc = cy_buf_puts(b, c->negated ? "NOT EXISTS " : "EXISTS ");
        return rc == COMITY_OK ? cy_pattern_print_path(&c->path, b) : rc;
    }
    rc = cy_pattern_print_path(&c->path, b);
    if (rc == COMITY_OK)
        rc = cy_buf_printf(b, "%s %s ", c->negated ? " NOT" : "",
                           cy_pat_op_name(c->op));
    if (rc != COMITY_OK)
        return rc;
    if (c->op != CY_OP_IN)
        return cy_pattern_print_lit(&c->lits[0], b);
    rc = cy_buf_puts(b, "(");
    for (size_t i = 0; rc == COMITY_OK && i < c->nlits; i++) {
        if (i)
            rc = cy_buf_puts(b, ", ");
        if (rc == COMITY_OK)
            rc = cy_pattern_print_lit(&c->lits[i], b);
    }
    return rc == COMITY_OK ? cy_buf_puts(b, ")") : rc;
}

static int cexpr_prec(const cy_pat_cexpr *c)
{
    return c->kind == CY_CEXPR_OR ? 1 : c->kind == CY_CEXPR_AND ? 2 : 3;
}

static comity_err print_cexpr(const cy_pat_cexpr *c, int parent, cy_buf *b)
{
    if (c->kind == CY_CEXPR_CMP)
        return print_cmp(c->cmp, b);
    int prec = cexpr_prec(c);
    bool paren = prec <= parent;
    comity_err rc = paren ? cy_buf_puts(b, "(") : COMITY_OK;
    for (size_t i = 0; rc == COMITY_OK && i < c->nkids; i++) {
        if (i)
            rc = cy_buf_puts(b, c->kind == CY_CEXPR_AND ? " AND " : " OR ");
        if (rc == COMITY_OK)
            rc = print_cexpr(c->kids[i], prec, b);
    }
    if (rc == COMITY_OK && paren)
        rc = cy_buf_puts(b, ")");
    return rc;
}

comity_err cy_pattern_print_cexpr(const cy_pat_cexpr *c, cy_buf *b)
{
    return print_cexpr(c, 0, b);
}

static comity_err print_qual(const cy_pat_qual *q, cy_buf *b)
{
    comity_err rc = COMITY_ERR_INTERNAL;
    switch (q->kind) {
    case CY_QUAL_WITHIN:
        rc = cy_buf_puts(b, " WITHIN ");
        if (rc == COMITY_OK)
            rc = cy_pattern_print_lit(q->n, b);
        return rc == COMITY_OK ? cy_buf_puts(b, " SECONDS") : rc;
    case CY_QUAL_REPEATS:
        return cy_buf_printf(b, " REPEATS %" PRId64 " TIMES", q->times);
    case CY_QUAL_STARTSTOP:
        return cy_buf_printf(b, " START t'%s' STOP t'%s'", q->start->s,
                             q->stop->s);
    }
    return rc;
}

static comity_err print_obs(const cy_pat_obs *o, int parent, cy_buf *b)
{
    comity_err rc = COMITY_OK;
    if (o->kind == CY_OBS_LEAF) {
        rc = cy_buf_puts(b, "[");
        if (rc == COMITY_OK)
            rc = print_cexpr(o->cexpr, 0, b);
        if (rc == COMITY_OK)
            rc = cy_buf_puts(b, "]");
    } else {
        int prec = o->kind == CY_OBS_FOLLOWEDBY ? 1 : o->kind == CY_OBS_OR ? 2 : 3;
        bool paren = o->nquals > 0 || prec <= parent;
        const char *sep = o->kind == CY_OBS_FOLLOWEDBY ? " FOLLOWEDBY "
                          : o->kind == CY_OBS_OR       ? " OR "
                                                       : " AND ";
        if (paren)
            rc = cy_buf_puts(b, "(");
        for (size_t i = 0; rc == COMITY_OK && i < o->nkids; i++) {
            if (i)
                rc = cy_buf_puts(b, sep);
            if (rc == COMITY_OK)
                rc = print_obs(o->kids[i], prec, b);
        }
        if (rc == COMITY_OK && paren)
            rc = cy_buf_puts(b, ")");
    }
    for (size_t i = 0; rc == COMITY_OK && i < o->nquals; i++)
        rc = print_qual(&o->quals[i], b);
    return rc;
}

comity_err cy_pattern_print_obs(const cy_pat_obs *o, cy_buf *b)
{
    return print_obs(o, 0, b);
}

comity_err cy_pattern_print(const cy_pattern *p, cy_buf *b)
{
    return print_obs(p->root, 0, b);
}

/* ---- walking and equality ------------------------------------------- */

static comity_err each_in_cexpr(const cy_pat_obs *leaf, const cy_pat_cexpr *c,
                                cy_pat_cmp_fn fn, void *ctx)
{
    if (c->kind == CY_CEXPR_CMP)
        return fn(leaf, c->cmp, ctx);
    for (size_t i = 0; i < c->nkids; i++) {
        comity_err rc = each_in_cexpr(leaf, c->kids[i], fn, ctx);
        if (rc != COMITY_OK)
            return rc;
    }
    return COMITY_OK;
}

static comity_err each_in_obs(const cy_pat_obs *o, cy_pat_cmp_fn fn, void *ctx)
{
    if (o->kind == CY_OBS_LEAF)
        return each_in_cexpr(o, o->cexpr, fn, ctx);
    for (size_t i = 0; i < o->nkids; i++) {
        comity_err rc = each_in_obs(o->kids[i], fn, ctx);
        if (rc != COMITY_OK)
            return rc;
    }
    return COMITY_OK;
}

comity_err cy_pattern_each_cmp(const cy_pattern *p, cy_pat_cmp_fn fn, void *ctx)
{
    return each_in_obs(p->root, fn, ctx);
}

bool cy_pat_path_is(const cy_pat_path *path, const char *type, const char *key)
{
    return path->nsteps == 1 && path->steps[0].kind == CY_STEP_KEY &&
           strlen(type) == path->type_len &&
           memcmp(path->type, type, path->type_len) == 0 &&
           strlen(key) == path->steps[0].key_len &&
           memcmp(path->steps[0].key, key, path->steps[0].key_len) == 0;
}

const char *cy_pat_hash_algo(const char *key, size_t len)
{
    static const char *const vocab[] = {"MD5",      "SHA-1",    "SHA-256",
                                        "SHA-512",  "SHA3-256", "SHA3-512",
                                        "SSDEEP",   "TLSH"};
    char folded[16];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        if (c == '-' || c == '_')
            continue;
        if (n == sizeof folded - 1)
            return NULL;
        folded[n++] = (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
    }
    folded[n] = 0;
    for (size_t v = 0; v < CY_ARRAY_LEN(vocab); v++) {
        char want[16];
        size_t m = 0;
        for (const char *q = vocab[v]; *q; q++)
            if (*q != '-')
                want[m++] = *q;
        want[m] = 0;
        if (strcmp(folded, want) == 0)
            return vocab[v];
    }
    return NULL;
}

static bool mem_eq(const void *a, size_t an, const void *b, size_t bn)
{
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static bool lit_eq(const cy_pat_lit *a, const cy_pat_lit *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case CY_LIT_STRING:
    case CY_LIT_TIMESTAMP:
        return mem_eq(a->s, a->len, b->s, b->len);
    case CY_LIT_INT:
    case CY_LIT_BOOL:
        return a->i == b->i;
    case CY_LIT_FLOAT:
        return a->f == b->f;
    case CY_LIT_BINARY:
    case CY_LIT_HEX:
        return mem_eq(a->bytes, a->len, b->bytes, b->len);
    }
    return false;
}

static bool path_eq(const cy_pat_path *a, const cy_pat_path *b)
{
    if (!mem_eq(a->type, a->type_len, b->type, b->type_len) ||
        a->nsteps != b->nsteps)
        return false;
    for (size_t i = 0; i < a->nsteps; i++) {
        const cy_pat_step *x = &a->steps[i], *y = &b->steps[i];
        if (x->kind != y->kind)
            return false;
        if (x->kind == CY_STEP_KEY && !mem_eq(x->key, x->key_len, y->key, y->key_len))
            return false;
        if (x->kind == CY_STEP_INDEX && x->index != y->index)
            return false;
    }
    return true;
}

static bool cexpr_eq(const cy_pat_cexpr *a, const cy_pat_cexpr *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == CY_CEXPR_CMP) {
        const cy_pat_cmp *x = a->cmp, *y = b->cmp;
        if (x->op != y->op || x->negated != y->negated ||
            x->nlits != y->nlits || !path_eq(&x->path, &y->path))
            return false;
        for (size_t i = 0; i < x->nlits; i++)
            if (!lit_eq(&x->lits[i], &y->lits[i]))
                return false;
        return true;
    }
    if (a->nkids != b->nkids)
        return false;
    for (size_t i = 0; i < a->nkids; i++)
        if (!cexpr_eq(a->kids[i], b->kids[i]))
            return false;
    return true;
}

static bool qual_eq(const cy_pat_qual *a, const cy_pat_qual *b)
{
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case CY_QUAL_WITHIN:
        return lit_eq(a->n, b->n);
    case CY_QUAL_REPEATS:
        return a->times == b->times;
    case CY_QUAL_STARTSTOP:
        return lit_eq(a->start, b->start) && lit_eq(a->stop, b->stop);
    }
    return false;
}

static bool obs_eq(const cy_pat_obs *a, const cy_pat_obs *b)
{
    if (a->kind != b->kind || a->nkids != b->nkids || a->nquals != b->nquals)
        return false;
    for (size_t i = 0; i < a->nquals; i++)
        if (!qual_eq(&a->quals[i], &b->quals[i]))
            return false;
    if (a->kind == CY_OBS_LEAF)
        return cexpr_eq(a->cexpr, b->cexpr);
    for (size_t i = 0; i < a->nkids; i++)
        if (!obs_eq(a->kids[i], b->kids[i]))
            return false;
    return true;
}

bool cy_pattern_equal(const cy_pattern *a, const cy_pattern *b)
{
    return a->ncmps == b->ncmps && a->nleaves == b->nleaves &&
           obs_eq(a->root, b->root);
}

/* ---- JSON dump ------------------------------------------------------- */

/* Each builder returns a new jansson value (caller owns the reference) or
 * NULL when out of memory. */

static json_t *jstr(const char *s, size_t len)
{
    return json_stringn(s, len);
}

static json_t *lit_json(const cy_pat_lit *l)
{
    static const char *const names[] = {
        [CY_LIT_STRING] = "string", [CY_LIT_INT] = "int",
        [CY_LIT_FLOAT] = "float",   [CY_LIT_BOOL] = "bool",
        [CY_LIT_BINARY] = "binary", [CY_LIT_HEX] = "hex",
        [CY_LIT_TIMESTAMP] = "timestamp",
    };
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_t *v = NULL;
    switch (l->kind) {
    case CY_LIT_STRING:
    case CY_LIT_TIMESTAMP:
        v = jstr(l->s, l->len);
        break;
    case CY_LIT_INT:
        v = json_integer(l->i);
        break;
    case CY_LIT_FLOAT:
        v = json_real(l->f);
        break;
    case CY_LIT_BOOL:
        v = json_boolean(l->i);
        break;
    case CY_LIT_BINARY: {
        char *enc = cy_b64_encode_alloc(l->bytes, l->len, CY_B64_STD);
        v = enc ? json_string(enc) : NULL;
        cy_free(enc);
        break;
    }
    case CY_LIT_HEX: {
        char *hex = cy_malloc(l->len * 2 + 1);
        if (hex) {
            cy_hex_encode(hex, l->bytes, l->len);
            v = json_string(hex);
        }
        cy_free(hex);
        break;
    }
    }
    if (json_object_set_new(o, "type", json_string(names[l->kind])) ||
        json_object_set_new(o, "value", v) ||
        (l->kind == CY_LIT_FLOAT && json_object_set_new(o, "text", jstr(l->s, l->len)))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *path_json(const cy_pat_path *p)
{
    json_t *o = json_object(), *steps = json_array();
    cy_buf b;
    cy_buf_init(&b, CY_PATTERN_MAX * 2);
    bool ok = o && steps && cy_pattern_print_path(p, &b) == COMITY_OK;
    for (size_t i = 0; ok && i < p->nsteps; i++) {
        const cy_pat_step *st = &p->steps[i];
        json_t *s = json_object();
        ok = s != NULL;
        if (ok && st->kind == CY_STEP_KEY)
            ok = !json_object_set_new(s, "key", jstr(st->key, st->key_len));
        else if (ok && st->kind == CY_STEP_INDEX)
            ok = !json_object_set_new(s, "index", json_integer(st->index));
        else if (ok)
            ok = !json_object_set_new(s, "index", json_string("*"));
        if (!ok) {
            json_decref(s); /* NULL is fine */
            break;
        }
        ok = !json_array_append_new(steps, s); /* takes s even on failure */
    }
    if (!ok) {
        json_decref(steps);
        json_decref(o);
        cy_buf_free(&b);
        return NULL;
    }
    ok = !json_object_set_new(o, "object_type", jstr(p->type, p->type_len)) &&
         !json_object_set_new(o, "text", jstr((const char *)b.data, b.len));
    cy_buf_free(&b);
    if (!ok)
        json_decref(steps);
    /* json_object_set_new takes the reference even when it fails */
    if (!ok || json_object_set_new(o, "steps", steps)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *cexpr_json(const cy_pat_cexpr *c)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    bool ok = true;
    if (c->kind == CY_CEXPR_CMP) {
        const cy_pat_cmp *m = c->cmp;
        ok = !json_object_set_new(o, "type", json_string("comparison")) &&
             !json_object_set_new(o, "path", path_json(&m->path)) &&
             !json_object_set_new(o, "operator", json_string(cy_pat_op_name(m->op))) &&
             !json_object_set_new(o, "negated", json_boolean(m->negated));
        if (ok && m->op == CY_OP_IN) {
            json_t *arr = json_array();
            ok = arr && !json_object_set_new(o, "values", arr);
            for (size_t i = 0; ok && i < m->nlits; i++)
                ok = !json_array_append_new(arr, lit_json(&m->lits[i]));
        } else if (ok && m->nlits == 1) {
            ok = !json_object_set_new(o, "value", lit_json(&m->lits[0]));
        }
    } else {
        json_t *arr = json_array();
        ok = arr &&
             !json_object_set_new(o, "type", json_string(c->kind == CY_CEXPR_AND ? "and" : "or")) &&
             !json_object_set_new(o, "operands", arr);
        for (size_t i = 0; ok && i < c->nkids; i++)
            ok = !json_array_append_new(arr, cexpr_json(c->kids[i]));
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *qual_json(const cy_pat_qual *q)
{
    json_t *o = json_object();
    bool ok = o != NULL;
    switch (q->kind) {
    case CY_QUAL_WITHIN:
        ok = ok && !json_object_set_new(o, "type", json_string("within")) &&
             !json_object_set_new(o, "seconds", q->n->kind == CY_LIT_INT
                                                    ? json_integer(q->n->i)
                                                    : json_real(q->seconds));
        break;
    case CY_QUAL_REPEATS:
        ok = ok && !json_object_set_new(o, "type", json_string("repeats")) &&
             !json_object_set_new(o, "times", json_integer(q->times));
        break;
    case CY_QUAL_STARTSTOP:
        ok = ok && !json_object_set_new(o, "type", json_string("start_stop")) &&
             !json_object_set_new(o, "start", json_string(q->start->s)) &&
             !json_object_set_new(o, "stop", json_string(q->stop->s));
        break;
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *obs_json(const cy_pat_obs *n)
{
    static const char *const names[] = {
        [CY_OBS_LEAF] = "observation", [CY_OBS_AND] = "and",
        [CY_OBS_OR] = "or", [CY_OBS_FOLLOWEDBY] = "followedby",
    };
    json_t *o = json_object();
    bool ok = o && !json_object_set_new(o, "type", json_string(names[n->kind]));
    if (ok && n->kind == CY_OBS_LEAF) {
        ok = !json_object_set_new(o, "expression", cexpr_json(n->cexpr));
    } else if (ok) {
        json_t *arr = json_array();
        ok = arr && !json_object_set_new(o, "operands", arr);
        for (size_t i = 0; ok && i < n->nkids; i++)
            ok = !json_array_append_new(arr, obs_json(n->kids[i]));
    }
    if (ok && n->nquals) {
        json_t *arr = json_array();
        ok = arr && !json_object_set_new(o, "qualifiers", arr);
        for (size_t i = 0; ok && i < n->nquals; i++)
            ok = !json_array_append_new(arr, qual_json(&n->quals[i]));
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}

comity_err cy_pattern_json(const cy_pattern *p, cy_buf *b)
{
    cy_buf text;
    cy_buf_init(&text, b->cap);
    comity_err rc = cy_pattern_print(p, &text);
    json_t *o = NULL;
    if (rc == COMITY_OK) {
        o = json_object();
        if (!o || json_object_set_new(o, "pattern", jstr((const char *)text.data, text.len)) ||
            json_object_set_new(o, "observations", json_integer((json_int_t)p->nleaves)) ||
            json_object_set_new(o, "comparisons", json_integer((json_int_t)p->ncmps)) ||
            json_object_set_new(o, "root", obs_json(p->root)))
            rc = COMITY_ERR_NOMEM;
    }
    if (rc == COMITY_OK) {
        char *s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (!s)
            rc = COMITY_ERR_NOMEM;
        else {
            rc = cy_buf_puts(b, s);
            free(s);
        }
    }
    json_decref(o);
    cy_buf_free(&text);
    return rc;
}
