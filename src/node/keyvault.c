/*
 * keyvault.c: the key custody backup (comity_keys_backup,
 * comity_keys_restore; docs/operations.md, "Key custody"): a node's
 * secret files and parties' key files, sealed with age to one or more
 * recipients (an offline custodian's key, a hardware-held one), or with a
 * passphrase (age's scrypt stanza: comity_keys_backup_passphrase), in one
 * file apart from the node's backup, so that the keys can be kept where
 * the data is not.
 *
 * The sealed plaintext is one JSON object (cy_keys_bundle_parse, the
 * fuzzed parser):
 *
 *   {"comity_keys": 1, "created": "RFC 3339",
 *    "keys": [{"path": "node.key", "vkey": "origin+id+..."},
 *             {"path": "parties/in.mea.key", "vkey": "in.mea+id+..."},
 *             {"path": "tls/key.pem"}, ...], with "text" in each}
 *
 * Rules (each refusal names the entry): path is one of the node's secret
 * files (NODE_FILES) or "parties/NAME.key" with NAME a valid party name;
 * no path twice; at most CY_KEYS_MAX entries of at most CY_KEYS_TEXT_MAX
 * bytes, CY_KEYS_BUNDLE_MAX in all; a signing key's text parses (a
 * node or witness key as a signed-note key, a party or retention key as
 * a party key file) and its public key is the recorded vkey; a party
 * key's party is its NAME.  So a restore proves each key is whole and the
 * one the backup said, before it writes anything.
 *
 * Secrets: every plaintext buffer this file owns is wiped before it is
 * freed; jansson's copies of the strings are not (jansson has no wiping
 * allocator here), which is why the parse frees its tree at once.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "node/node.h"
#include "node/keyvault.h"

/* A node's secret files, as docs/operations.md lists them, and what each
 * holds: 'n' a signed-note key, 'p' a party key file, 't' other text. */
static const struct {
    const char *path;
    char kind;
} NODE_FILES[] = {
    {"node.key", 'n'}, {"witness.key", 'n'}, {"retention.key", 'p'},
    {"tls/key.pem", 't'}, {CY_NODE_STORE_FILE, 't'},
};

void cy_keys_bundle_free(cy_keys_bundle *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++) {
        if (b->e[i].text) {
            sodium_memzero(b->e[i].text, b->e[i].len);
            cy_free(b->e[i].text);
        }
    }
    cy_free(b->e);
    cy_free(b);
}

/* The kind of a path ('n', 'p', 't'), or 0 when not allowed. */
static char path_kind(const char *path, comity_error *err)
{
    for (size_t k = 0; k < CY_ARRAY_LEN(NODE_FILES); k++)
        if (!strcmp(path, NODE_FILES[k].path))
            return NODE_FILES[k].kind;
    static const char pre[] = "parties/", suf[] = ".key";
    size_t n = strlen(path);
    if (n > sizeof pre - 1 + sizeof suf - 1 && !strncmp(path, pre, sizeof pre - 1) &&
        !strcmp(path + n - (sizeof suf - 1), suf)) {
        char name[COMITY_PARTY_MAX + 1];
        size_t nl = n - (sizeof pre - 1) - (sizeof suf - 1);
        if (nl < sizeof name) {
            memcpy(name, path + sizeof pre - 1, nl);
            name[nl] = 0;
            if (comity_party_valid(name, err))
                return 'P';
        }
    }
    return 0;
}

/* Checks one entry's text against its kind and recorded vkey. */
static comity_err check_entry(const cy_keys_entry *k, char kind, comity_error *err)
{
    comity_error e = {0};
    comity_err rc = COMITY_OK;
    const char *vk = NULL;
    comity_nkey *nk = NULL;
    comity_key *pk = NULL;
    if (kind == 'n') {
        if (!(rc = comity_nkey_parse(k->text, k->len, &nk, &e)))
            vk = comity_nkey_vkey(nk);
    } else if (kind == 'p' || kind == 'P') {
        if (!(rc = comity_key_parse(k->text, k->len, &pk, &e)))
            vk = comity_key_vkey(pk);
        if (!rc && kind == 'P') {
            const char *party = comity_key_party(pk);
            size_t pl = strlen(party);
            if (strlen(k->path) != 8 + pl + 4 || strncmp(k->path + 8, party, pl) != 0)
                rc = cy_fail(&e, COMITY_ERR_INVALID, "the key is %s's", party);
        }
    } else if (k->vkey[0]) {
        rc = cy_fail(&e, COMITY_ERR_INVALID, "a vkey given for a file that holds none");
    }
    if (!rc && vk && strcmp(vk, k->vkey) != 0)
        rc = cy_fail(&e, COMITY_ERR_VERIFY, "its public key is %s, not the recorded %s", vk,
                     k->vkey[0] ? k->vkey : "(none)");
    comity_nkey_free(nk);
    comity_key_free(pk);
    if (rc)
        return cy_fail(err, rc, "key backup: %s: %s", k->path, e.msg);
    return COMITY_OK;
}

comity_err cy_keys_bundle_parse(const char *text, size_t len, cy_keys_bundle **out,
                                comity_error *err)
{
    *out = NULL;
    if (len > CY_KEYS_BUNDLE_MAX)
        return cy_fail(err, COMITY_ERR_TOOBIG, "key backup: %zu bytes, more than %u", len,
                       CY_KEYS_BUNDLE_MAX);
    json_error_t je;
    json_t *v = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!v)
        return cy_fail(err, COMITY_ERR_INVALID, "key backup: not JSON: %s (byte %d)", je.text,
                       je.position);
    comity_err rc = COMITY_OK;
    json_t *keys = json_object_get(v, "keys");
    json_t *ver = json_object_get(v, "comity_keys");
    cy_keys_bundle *b = NULL;
    if (!json_is_object(v) || !json_is_integer(ver) || json_integer_value(ver) != 1)
        rc = cy_fail(err, COMITY_ERR_INVALID, "key backup: not a comity key backup of version 1");
    else if (!json_is_array(keys))
        rc = cy_fail(err, COMITY_ERR_INVALID, "key backup: no \"keys\" list");
    else if (json_array_size(keys) > CY_KEYS_MAX)
        rc = cy_fail(err, COMITY_ERR_TOOBIG, "key backup: %zu keys, more than %u",
                     json_array_size(keys), CY_KEYS_MAX);
    else if (!(b = cy_calloc(1, sizeof *b)) ||
             (json_array_size(keys) && !(b->e = cy_calloc(json_array_size(keys), sizeof *b->e))))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "key backup: out of memory");
    const char *created = json_string_value(json_object_get(v, "created"));
    if (!rc && b && created)
        snprintf(b->created, sizeof b->created, "%s", created);
    size_t i;
    json_t *k;
    json_array_foreach(keys, i, k) {
        if (rc)
            break;
        const char *path = json_string_value(json_object_get(k, "path"));
        json_t *t = json_object_get(k, "text");
        json_t *vk = json_object_get(k, "vkey");
        cy_keys_entry *en = &b->e[b->n];
        char kind = 0;
        comity_error pe = {0};
        if (!json_is_object(k) || !path || !json_is_string(t) || (vk && !json_is_string(vk))) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "key backup: entry %zu: want path, text and"
                         " maybe vkey, all strings", i);
        } else if (!(kind = path_kind(path, &pe))) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "key backup: entry %zu: '%.80s' is not a"
                         " node secret file or parties/NAME.key%s%s", i, path,
                         pe.msg[0] ? ": " : "", pe.msg);
        } else if (json_string_length(t) > CY_KEYS_TEXT_MAX) {
            rc = cy_fail(err, COMITY_ERR_TOOBIG, "key backup: %s: more than %u bytes", path,
                         CY_KEYS_TEXT_MAX);
        } else if (vk && json_string_length(vk) >= sizeof en->vkey) {
            rc = cy_fail(err, COMITY_ERR_INVALID, "key backup: %s: vkey too long", path);
        } else {
            for (size_t j = 0; j < b->n && !rc; j++)
                if (!strcmp(b->e[j].path, path))
                    rc = cy_fail(err, COMITY_ERR_INVALID, "key backup: %s twice", path);
            if (!rc) {
                snprintf(en->path, sizeof en->path, "%s", path);
                snprintf(en->vkey, sizeof en->vkey, "%s", vk ? json_string_value(vk) : "");
                en->len = json_string_length(t);
                if (!(en->text = cy_malloc(en->len + 1)))
                    rc = cy_fail(err, COMITY_ERR_NOMEM, "key backup: out of memory");
                else {
                    memcpy(en->text, json_string_value(t), en->len + 1);
                    b->n++;
                    rc = check_entry(en, kind, err);
                }
            }
        }
    }
    json_decref(v);
    if (rc) {
        cy_keys_bundle_free(b);
        return rc;
    }
    *out = b;
    return COMITY_OK;
}

/* Adds one file's text to the list (its vkey checked as a restore will). */
static comity_err add_file(json_t *keys, const char *path, const char *file, char kind,
                           comity_error *err)
{
    char *text = NULL;
    size_t len = 0;
    comity_err rc = comity_read_file(file, CY_KEYS_TEXT_MAX, &text, &len, err);
    if (rc)
        return rc;
    comity_nkey *nk = NULL;
    comity_key *pk = NULL;
    const char *vk = NULL;
    comity_error e = {0};
    if (kind == 'n' && !(rc = comity_nkey_parse(text, len, &nk, &e)))
        vk = comity_nkey_vkey(nk);
    else if ((kind == 'p' || kind == 'P') && !(rc = comity_key_parse(text, len, &pk, &e)))
        vk = comity_key_vkey(pk);
    if (rc)
        rc = cy_fail(err, rc, "key backup: %s: %s", file, e.msg);
    json_t *o = rc ? NULL : json_object();
    if (o) {
        json_object_set_new(o, "path", json_string(path));
        if (vk)
            json_object_set_new(o, "vkey", json_string(vk));
        json_t *t = json_stringn(text, len); /* NULL when not UTF-8 */
        if (!t || json_object_set_new(o, "text", t)) {
            json_decref(o);
            o = NULL;
        }
    }
    if (!rc && (!o || json_array_append_new(keys, o)))
        rc = cy_fail(err, COMITY_ERR_INVALID, "key backup: %s is not UTF-8 text", file);
    comity_nkey_free(nk);
    comity_key_free(pk);
    sodium_memzero(text, len);
    cy_free(text);
    return rc;
}

/* The plaintext of a backup: the node's secret files and the party key
 * files, each checked, as what a restore accepts.  OUT *plain (jansson's
 * malloc: wipe and free()), *nkeys (may be NULL). */
static comity_err bundle_make(const char *dir, const char *const *party_keys, size_t nparty,
                              char **plain, size_t *nkeys, comity_error *err)
{
    comity_err rc = COMITY_OK;
    *plain = NULL;
    if (!dir && !nparty)
        return cy_fail(err, COMITY_ERR_USAGE, "key backup: no node directory and no key file");
    json_t *keys = json_array();
    char p[4200];
    for (size_t k = 0; !rc && dir && k < CY_ARRAY_LEN(NODE_FILES); k++) {
        snprintf(p, sizeof p, "%s/%s", dir, NODE_FILES[k].path);
        struct stat sb;
        if (stat(p, &sb) != 0) {
            if (k == 0) /* node.key: DIR must be a node */
                rc = cy_fail(err, COMITY_ERR_NOTFOUND, "key backup: %s: %s", p,
                             strerror(errno));
            continue;
        }
        rc = add_file(keys, NODE_FILES[k].path, p, NODE_FILES[k].kind, err);
    }
    for (size_t i = 0; !rc && i < nparty; i++) {
        comity_key *pk = NULL;
        if ((rc = comity_key_load(party_keys[i], &pk, err)))
            break;
        snprintf(p, sizeof p, "parties/%s.key", comity_key_party(pk));
        comity_key_free(pk);
        rc = add_file(keys, p, party_keys[i], 'P', err);
    }
    char now[COMITY_TIME_BUF];
    comity_time_format(now, comity_now_ms());
    json_t *v = rc ? NULL : json_object();
    if (v) {
        json_object_set_new(v, "comity_keys", json_integer(1));
        json_object_set_new(v, "created", json_string(now));
        json_object_set(v, "keys", keys);
    }
    json_decref(keys);
    char *text = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(v);
    if (!rc && !text)
        rc = cy_fail(err, COMITY_ERR_NOMEM, "key backup: out of memory");
    /* what a restore will accept, checked before sealing */
    cy_keys_bundle *b = NULL;
    if (!rc && !(rc = cy_keys_bundle_parse(text, strlen(text), &b, err)) && nkeys)
        *nkeys = b->n;
    cy_keys_bundle_free(b);
    if (rc && text) {
        sodium_memzero(text, strlen(text));
        free(text);
        text = NULL;
    }
    *plain = text;
    return rc;
}

/* Seals the plaintext (to recipients, or with a passphrase when pass is
 * given), wipes and frees it, and writes the new file `out` (0600). */
static comity_err seal_write(char *plain, const char *const *recipients, size_t nrec,
                             const char *pass, size_t pass_len, const char *out,
                             comity_error *err)
{
    uint8_t *sealed = NULL;
    size_t sl = 0;
    comity_err rc = pass ? comity_seal_passphrase_mem(plain, strlen(plain), pass, pass_len, 0, 1,
                                                      &sealed, &sl, err)
                         : comity_seal_mem(plain, strlen(plain), recipients, nrec, 1, &sealed,
                                           &sl, err);
    sodium_memzero(plain, strlen(plain));
    free(plain); /* jansson's malloc */
    if (!rc)
        rc = comity_write_file(out, sealed, sl, 0600, 1, err);
    comity_free(sealed);
    return rc;
}

comity_err comity_keys_backup(const char *dir, const char *const *party_keys, size_t nparty,
                              const char *const *recipients, size_t nrec, const char *out,
                              size_t *nkeys, comity_error *err)
{
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (!nrec)
        return cy_fail(err, COMITY_ERR_USAGE, "key backup: no recipient to seal to");
    char *plain = NULL;
    if ((rc = bundle_make(dir, party_keys, nparty, &plain, nkeys, err)))
        return rc;
    return seal_write(plain, recipients, nrec, NULL, 0, out, err);
}

comity_err comity_keys_backup_passphrase(const char *dir, const char *const *party_keys,
                                         size_t nparty, const char *pass, size_t pass_len,
                                         const char *out, size_t *nkeys, comity_error *err)
{
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    if (!pass || !pass_len)
        return cy_fail(err, COMITY_ERR_USAGE, "key backup: an empty passphrase");
    char *plain = NULL;
    if ((rc = bundle_make(dir, party_keys, nparty, &plain, nkeys, err)))
        return rc;
    return seal_write(plain, NULL, 0, pass, pass_len, out, err);
}

/* mkdir -m 0700 for each directory of `path` below `root` (exists: fine). */
static comity_err mkdirs(const char *root, const char *path, comity_error *err)
{
    char p[4200];
    const char *slash = path;
    while ((slash = strchr(slash, '/'))) {
        snprintf(p, sizeof p, "%s/%.*s", root, (int)(slash - path), path);
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return cy_fail(err, COMITY_ERR_IO, "key restore: %s: %s", p, strerror(errno));
        slash++;
    }
    return COMITY_OK;
}

/* Opens a backup with identities or a passphrase (pass non-NULL), checks
 * and writes it (comity_keys_restore's contract). */
static comity_err restore_core(const char *in, const comity_identities *ids, const char *pass,
                               size_t pass_len, const char *outdir, char **listing,
                               comity_error *err)
{
    *listing = NULL;
    comity_err rc = comity_init(err);
    if (rc)
        return rc;
    char *sealed = NULL;
    size_t sl = 0;
    uint8_t *plain = NULL;
    size_t pl = 0;
    if ((rc = comity_read_file(in, CY_KEYS_BUNDLE_MAX * 2 + COMITY_AGE_HEADER_MAX, &sealed, &sl,
                               err)))
        return rc;
    rc = pass ? comity_open_passphrase_mem(sealed, sl, pass, pass_len, 0, &plain, &pl, err)
              : comity_open_mem(sealed, sl, ids, &plain, &pl, err);
    cy_free(sealed);
    if (rc)
        return rc;
    cy_keys_bundle *b = NULL;
    rc = cy_keys_bundle_parse((const char *)plain, pl, &b, err);
    sodium_memzero(plain, pl);
    comity_free(plain);
    if (rc)
        return rc;
    if (mkdir(outdir, 0700) != 0)
        rc = cy_fail(err, errno == EEXIST ? COMITY_ERR_EXISTS : COMITY_ERR_IO,
                     "key restore: %s: %s (give a new directory)", outdir, strerror(errno));
    json_t *list = json_array();
    char p[4200];
    for (size_t i = 0; !rc && i < b->n; i++) {
        snprintf(p, sizeof p, "%s/%s", outdir, b->e[i].path);
        if (!(rc = mkdirs(outdir, b->e[i].path, err)) &&
            !(rc = comity_write_file(p, b->e[i].text, b->e[i].len, 0600, 1, err)))
            json_array_append_new(list, json_pack("{s:s, s:s?}", "path", b->e[i].path, "vkey",
                                                  b->e[i].vkey[0] ? b->e[i].vkey : NULL));
    }
    json_t *v = json_pack("{s:s, s:o}", "created", b->created, "keys", list);
    cy_keys_bundle_free(b);
    if (!rc && !(*listing = v ? json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL))
        rc = cy_fail(err, COMITY_ERR_NOMEM, "key restore: out of memory");
    json_decref(v);
    return rc;
}

comity_err comity_keys_restore(const char *in, const comity_identities *ids, const char *outdir,
                               char **listing, comity_error *err)
{
    return restore_core(in, ids, NULL, 0, outdir, listing, err);
}

comity_err comity_keys_restore_passphrase(const char *in, const char *pass, size_t pass_len,
                                          const char *outdir, char **listing, comity_error *err)
{
    if (!pass || !pass_len) {
        *listing = NULL;
        return cy_fail(err, COMITY_ERR_USAGE, "key restore: an empty passphrase");
    }
    return restore_core(in, NULL, pass, pass_len, outdir, listing, err);
}
