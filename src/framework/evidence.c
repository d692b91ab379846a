/*
 * evidence.c: cross-border evidence requests, treaty-neutral, as three case
 * mechanisms (case.h) sharing one deadline table with a column per profile.
 *
 *   - expedited preservation (Budapest Art. 29, UN Convention Art. 42): the
 *     six mandatory fields of the request, refused if one is missing; the
 *     requested state confirms (starting the preservation period, at least
 *     60 days, during which the requester must send its mutual-assistance
 *     request: the "mla-request" clock both sides see) or refuses on an
 *     allowed ground; it may extend the period and disclose the preserved
 *     traffic data that identifies other providers (Art. 30).  An
 *     mla-request naming the preservation case in its refs, between the
 *     same two states, moves it to followed-up and stops that clock;
 *   - mutual legal assistance (Budapest Art. 31, UN Art. 40): the content
 *     the instruments require, partial answers, requests for more
 *     information (the answer clock stops while the requester owes it, and
 *     starts again when it comes), a final answer or a refusal;
 *   - emergency requests (Second Protocol Arts 9-10): the record of an oral
 *     request starts two clocks, the requested state's answer and the
 *     requester's written confirmation (72 hours unless configured).
 *
 * Which instrument's deadlines apply to a case is its profile: the treaty
 * the handle's configuration names for the pair of states
 * (comity_framework_set_treaty), Budapest when none is named.  The figures
 * are defaults, not law (docs/framework.md; specs/framework.md marks several
 * of them unverified).
 */
#include <string.h>

#include "framework/case.h"

#define DAY_MS (24 * HOUR_MS)

/* Defaults of the deadline table, in hours, by profile (budapest,
 * second-protocol, un, eu) and clock (enum cy_ck); the first column is
 * consult.c's (0 here, unused). */
static const int64_t default_h[CY_PROFILE_COUNT][CY_CK_COUNT] = {
    /*   consult   pres-ans  pres     ext      mla      info     em-ans  em-conf */
    {0, 24, 60 * 24, 60 * 24, 45 * 24, 30 * 24, 24, 72},
    {0, 24, 60 * 24, 60 * 24, 45 * 24, 30 * 24, 24, 72},
    {0, 24, 60 * 24, 60 * 24, 45 * 24, 30 * 24, 24, 72},
    {0, 24, 60 * 24, 30 * 24, 10 * 24, 30 * 24, 8, 72},
};

/* The columns of the deadline table evidence requests own (preservation
 * answer to emergency confirmation). */
static void defaults(int64_t dur[CY_PROFILE_COUNT][CY_CK_COUNT])
{
    for (int p = 0; p < CY_PROFILE_COUNT; p++)
        for (int k = 0; k < CY_CK_COUNT; k++)
            if (k >= CY_CK_PRESERVATION_ANSWER && k <= CY_CK_EMERGENCY_CONFIRM)
                dur[p][k] = default_h[p][k] * HOUR_MS;
}

#define TEXT(n, req) {n, CY_FK_TEXT, req, NULL, 0, 0}
#define LONG(n, req) {n, CY_FK_TEXT, req, NULL, 0, CY_CASE_LONG_TEXT_MAX}
#define TIME(n, req) {n, CY_FK_TIME, req, NULL, 0, 0}
#define SHA(n) {n, CY_FK_SHA256, false, NULL, 0, 0}
#define SIZE(n) {n, CY_FK_INT, false, NULL, 0, ((int64_t)1 << 53)}
#define FILES {"files", CY_FK_FILES, false, NULL, 0, 0}
#define END {NULL, CY_FK_TEXT, false, NULL, 0, 0}

/* Grounds on which preservation may be refused: Budapest Art. 29(5) and
 * 29(4) (dual criminality, where a Party reserved it); for assistance, the
 * refusal grounds of Art. 27(4) and the requested Party's law (Art. 25(4)). */
static const char *const grounds_preservation[] = {
    "political-offence", "essential-interests", "dual-criminality", NULL};
static const char *const grounds_mla[] = {"political-offence",
                                          "essential-interests",
                                          "dual-criminality", "domestic-law",
                                          NULL};

static const cy_field f_close[] = {TEXT("reason", false), END};

/* ---- preservation ---------------------------------------------------------------- */

enum { P_REQUESTED, P_PRESERVED, P_FOLLOWED_UP, P_REFUSED, P_CLOSED };
static const char *const p_states[] = {"requested", "preserved", "followed-up",
                                       "refused", "closed"};
#define PR CY_BIT(P_REQUESTED)
#define PP CY_BIT(P_PRESERVED)
#define PF CY_BIT(P_FOLLOWED_UP)

static const cy_case_clock p_clocks[] = {
    {"answer", CY_CK_PRESERVATION_ANSWER, CY_ROLE_REQUESTED},
    {"mla-request", CY_CK_PRESERVATION, CY_ROLE_REQUESTER},
};
#define P_ANSWER CY_BIT(0)
#define P_MLA CY_BIT(1)

static const cy_case_row p_rows[] = {
    {PR, "preservation-confirm", CY_ROLE_REQUESTED, P_PRESERVED, P_MLA, P_ANSWER},
    {PR, "preservation-refuse", CY_ROLE_REQUESTED, P_REFUSED, 0, P_ANSWER},
    {PP, "preservation-extend", CY_ROLE_REQUESTED, CY_SAME, 0, 0},
    {PP | PF, "preservation-disclose", CY_ROLE_REQUESTED, CY_SAME, 0, 0},
    {PR | PP | PF, "evidence-close", CY_ROLE_REQUESTER, P_CLOSED, 0, 0},
};

/* The six mandatory fields of Budapest Art. 29(2) / UN Art. 42. */
static const cy_field f_preservation[] = {
    TEXT("requesting_authority", true), /* a: who asks */
    LONG("offence", true),              /* b: the offence, summary of facts */
    LONG("data", true),                 /* c: data to preserve, its relation */
    TEXT("custodian", true),            /* d: custodian or system location */
    TEXT("necessity", true),            /* e: why preservation is necessary */
    {"mla_to_follow", CY_FK_TRUE, true, NULL, 0, 0}, /* f: MLA will follow */
    {"reference", CY_FK_TEXT, false, NULL, 0, 128},
    TEXT("legal_basis", false),
    {"period_days", CY_FK_INT, false, NULL, 60, 3650},
    END};
static const cy_field f_confirm[] = {
    {"period_days", CY_FK_INT, false, NULL, 60, 3650},
    {"reference", CY_FK_TEXT, false, NULL, 0, 128}, TEXT("note", false), END};
static const cy_field f_p_refuse[] = {
    {"grounds", CY_FK_ENUM, true, grounds_preservation, 0, 0},
    TEXT("explanation", true), END};
static const cy_field f_extend[] = {{"days", CY_FK_INT, false, NULL, 1, 3650},
                                    TEXT("reason", false), END};
static const cy_field f_disclose[] = {
    {"providers", CY_FK_TEXTS, true, NULL, 0, 64}, LONG("path", false),
    TEXT("note", false), FILES, END};

static const cy_case_type p_types[] = {
    {"preservation-request", f_preservation, NULL},
    {"preservation-confirm", f_confirm, NULL},
    {"preservation-refuse", f_p_refuse, NULL},
    {"preservation-extend", f_extend, NULL},
    {"preservation-disclose", f_disclose, NULL},
    {"evidence-close", f_close, NULL},
};

static comity_err fact(cy_case *c, const char *k, json_t *v, comity_error *err)
{
    if (!v || json_object_set_new(c->facts, k, v))
        return cy_fw_nomem(err);
    return COMITY_OK;
}

static comity_err p_hook(comity_framework *fw, cy_case *c, const cy_case_row *row,
                         const comity_record *rec, const json_t *body,
                         int64_t created, bool dry, comity_error *err)
{
    if (dry || !row)
        return COMITY_OK;
    const char *type = comity_record_type(rec);
    cy_case_clk *mla = &c->clk[1];
    if (!strcmp(type, "preservation-confirm") && body &&
        json_object_get(body, "period_days"))
        mla->fixed_due = created +
                         json_integer_value(json_object_get(body, "period_days")) * DAY_MS;
    if (!strcmp(type, "preservation-extend")) {
        /* the fact first: only it may fail, and then nothing changed */
        json_t *d = body ? json_object_get(body, "days") : NULL;
        json_t *n = json_object_get(c->facts, "extensions");
        comity_err rc = fact(c, "extensions", json_integer(json_integer_value(n) + 1), err);
        if (!rc)
            mla->extra += d ? json_integer_value(d) * DAY_MS
                            : fw->cases->dur[c->profile][CY_CK_EXTENSION];
        return rc;
    }
    if (!strcmp(type, "preservation-disclose"))
        return fact(c, "disclosed", json_string(comity_record_id(rec)), err);
    return COMITY_OK;
}

const cy_mech cy_mech_preservation = {
    .name = "preservation",
    .opens = "preservation-request",
    .types = p_types,
    .ntypes = CY_ARRAY_LEN(p_types),
    .states = p_states,
    .nstates = CY_ARRAY_LEN(p_states),
    .open_states = PR | PP | PF,
    .initial = P_REQUESTED,
    .open_starts = P_ANSWER,
    .rows = p_rows,
    .nrows = CY_ARRAY_LEN(p_rows),
    .clocks = p_clocks,
    .nclocks = CY_ARRAY_LEN(p_clocks),
    .third_max = 0,
    .profiled = true,
    .hook = p_hook,
    .defaults = defaults,
};

/* ---- mutual legal assistance ------------------------------------------------------ */

enum { M_REQUESTED, M_PARTIAL, M_INFO, M_ANSWERED, M_REFUSED, M_CLOSED };
static const char *const m_states[] = {"requested", "partial",
                                       "info-requested", "answered", "refused",
                                       "closed"};
#define MR CY_BIT(M_REQUESTED)
#define MP CY_BIT(M_PARTIAL)
#define MI CY_BIT(M_INFO)

static const cy_case_clock m_clocks[] = {
    {"answer", CY_CK_MLA_ANSWER, CY_ROLE_REQUESTED},
    {"more-info", CY_CK_MORE_INFO, CY_ROLE_REQUESTER},
};
#define M_ANSWER CY_BIT(0)
#define M_MORE CY_BIT(1)

static const cy_case_row m_rows[] = {
    {MR | MP, "mla-partial", CY_ROLE_REQUESTED, M_PARTIAL, 0, 0},
    {MR | MP, "mla-answer", CY_ROLE_REQUESTED, M_ANSWERED, 0, M_ANSWER},
    {MR | MP, "mla-more-info", CY_ROLE_REQUESTED, M_INFO, M_MORE, M_ANSWER},
    {MI, "mla-info", CY_ROLE_REQUESTER, M_REQUESTED, M_ANSWER, M_MORE},
    {MR | MP | MI, "mla-refuse", CY_ROLE_REQUESTED, M_REFUSED, 0, 0},
    {MR | MP | MI, "evidence-close", CY_ROLE_REQUESTER, M_CLOSED, 0, 0},
};

/* The content Budapest Art. 27 / UN Art. 40 require of a request. */
static const cy_field f_mla[] = {
    TEXT("requesting_authority", true), /* the authority making the request */
    LONG("subject", true),    /* subject matter and nature of the investigation */
    LONG("facts", true),      /* summary of the relevant facts */
    LONG("assistance", true), /* the assistance sought */
    TEXT("purpose", true),    /* the purpose of the evidence sought */
    LONG("persons", false),   /* identity and location of persons concerned */
    {"reference", CY_FK_TEXT, false, NULL, 0, 128},
    TEXT("legal_basis", false),
    TIME("respond_by", false), FILES, END};
static const cy_field f_answer[] = {LONG("text", true), SHA("sha256"),
                                   SIZE("size"), FILES, END};
static const cy_field f_more[] = {TEXT("asked", true), END};
static const cy_field f_info[] = {LONG("text", true), FILES, END};
static const cy_field f_m_refuse[] = {
    {"grounds", CY_FK_ENUM, true, grounds_mla, 0, 0}, TEXT("explanation", true),
    END};

static const cy_case_type m_types[] = {
    {"mla-request", f_mla, NULL},     {"mla-partial", f_answer, NULL},
    {"mla-answer", f_answer, NULL},   {"mla-more-info", f_more, NULL},
    {"mla-info", f_info, NULL},       {"mla-refuse", f_m_refuse, NULL},
    {"evidence-close", f_close, NULL},
};

/* The opening of an MLA request follows up the preservation cases it names
 * in refs, when they are preserved and between the same two states. */
static comity_err m_hook(comity_framework *fw, cy_case *c, const cy_case_row *row,
                         const comity_record *rec, const json_t *body,
                         int64_t created, bool dry, comity_error *err)
{
    (void)body;
    if (dry || row)
        return COMITY_OK;
    char as[COMITY_PARTY_MAX + 1], rs[COMITY_PARTY_MAX + 1],
        ps[COMITY_PARTY_MAX + 1];
    cy_fw_state_of(comity_record_author(rec), as);
    cy_fw_state_of(comity_record_to(rec, 0), rs);
    for (size_t i = 0; i < comity_record_refs_count(rec); i++) {
        cy_case *p = cy_case_find(fw, comity_record_ref(rec, i));
        if (!p || p->m != &cy_mech_preservation || p->state != P_PRESERVED ||
            strcmp(cy_fw_state_of(p->parties[0], ps), as) != 0 ||
            strcmp(cy_fw_state_of(p->parties[1], ps), rs) != 0)
            continue;
        /* the facts first (the new case's, then the followed-up one's):
         * if one fails, the preservation case is unchanged */
        comity_err rc;
        if ((rc = fact(c, "preservation", json_string(p->id), err)) ||
            (rc = fact(p, "mla", json_string(c->id), err)))
            return rc;
        p->state = P_FOLLOWED_UP;
        if (p->clk[1].stopped < 0)
            p->clk[1].stopped = created;
    }
    return COMITY_OK;
}

const cy_mech cy_mech_mla = {
    .name = "mla",
    .opens = "mla-request",
    .types = m_types,
    .ntypes = CY_ARRAY_LEN(m_types),
    .states = m_states,
    .nstates = CY_ARRAY_LEN(m_states),
    .open_states = MR | MP | MI,
    .initial = M_REQUESTED,
    .open_starts = M_ANSWER,
    .rows = m_rows,
    .nrows = CY_ARRAY_LEN(m_rows),
    .clocks = m_clocks,
    .nclocks = CY_ARRAY_LEN(m_clocks),
    .third_max = 0,
    .profiled = true,
    .hook = m_hook,
    .defaults = defaults,
};

/* ---- emergency requests ------------------------------------------------------------- */

enum { E_REQUESTED, E_CONFIRMED, E_ANSWERED, E_DONE, E_REFUSED, E_CLOSED };
static const char *const e_states[] = {"requested", "confirmed", "answered",
                                       "done", "refused", "closed"};
#define ER CY_BIT(E_REQUESTED)
#define EC CY_BIT(E_CONFIRMED)
#define EA CY_BIT(E_ANSWERED)

static const cy_case_clock e_clocks[] = {
    {"answer", CY_CK_EMERGENCY_ANSWER, CY_ROLE_REQUESTED},
    {"written-confirmation", CY_CK_EMERGENCY_CONFIRM, CY_ROLE_REQUESTER},
};
#define E_ANSWER CY_BIT(0)
#define E_CONFIRM CY_BIT(1)

static const cy_case_row e_rows[] = {
    {ER, "emergency-confirm", CY_ROLE_REQUESTER, E_CONFIRMED, 0, E_CONFIRM},
    {EA, "emergency-confirm", CY_ROLE_REQUESTER, E_DONE, 0, E_CONFIRM},
    {ER, "emergency-answer", CY_ROLE_REQUESTED, E_ANSWERED, 0, E_ANSWER},
    {EC, "emergency-answer", CY_ROLE_REQUESTED, E_DONE, 0, E_ANSWER},
    {ER | EC, "emergency-refuse", CY_ROLE_REQUESTED, E_REFUSED, 0, 0},
    {ER | EC | EA, "evidence-close", CY_ROLE_REQUESTER, E_CLOSED, 0, 0},
};

static const cy_field f_emergency[] = {
    TEXT("requesting_authority", true),
    LONG("emergency", true),  /* the significant and imminent risk to life or
                                 safety of a natural person */
    LONG("facts", true),
    LONG("assistance", true), /* the data or assistance sought */
    TIME("oral_at", false),   /* when the oral request was made */
    TEXT("channel", false),
    {"reference", CY_FK_TEXT, false, NULL, 0, 128}, FILES, END};
static const cy_field f_e_confirm[] = {
    LONG("confirmation", false), {"reference", CY_FK_TEXT, false, NULL, 0, 128},
    FILES, END};

static const cy_case_type e_types[] = {
    {"emergency-request", f_emergency, NULL},
    {"emergency-confirm", f_e_confirm, NULL},
    {"emergency-answer", f_answer, NULL},
    {"emergency-refuse", f_m_refuse, NULL},
    {"evidence-close", f_close, NULL},
};

const cy_mech cy_mech_emergency = {
    .name = "emergency",
    .opens = "emergency-request",
    .types = e_types,
    .ntypes = CY_ARRAY_LEN(e_types),
    .states = e_states,
    .nstates = CY_ARRAY_LEN(e_states),
    .open_states = ER | EC | EA,
    .initial = E_REQUESTED,
    .open_starts = E_ANSWER | E_CONFIRM,
    .rows = e_rows,
    .nrows = CY_ARRAY_LEN(e_rows),
    .clocks = e_clocks,
    .nclocks = CY_ARRAY_LEN(e_clocks),
    .third_max = 0,
    .profiled = true,
    .defaults = defaults,
};
