/*
 * spyware.h: the commercial spyware registry (docs/spyware.md) as the
 * rest of the framework sees it.
 *
 * Two files stand on it: spyware.c, a non-case mechanism (struct
 * cy_fw_mech) ruling the registry's records (vendors and their
 * corrections, licences and denials, listed entities, misuse notices and
 * the requests to join them), and spyware_misuse.c, a case mechanism
 * (struct cy_mech) for misuse cases, which asks spyware.c who asked to
 * join the notice a case answers.  Nothing outside src/framework/ includes
 * this header.
 */
#ifndef COMITY_FRAMEWORK_SPYWARE_H
#define COMITY_FRAMEWORK_SPYWARE_H

#include "framework/case.h"

#define CY_SPY_VENDORS_MAX 2000000u /* vendors one handle holds */
#define CY_SPY_NAMES_MAX 256        /* name + synonyms of one vendor */
#define CY_SPY_NAME_MAX 256         /* bytes in one name */
#define CY_SPY_JOINERS_MAX 16       /* licensing states joined to one case */
#define CY_SPY_LOOKUP_MAX 1000      /* vendors one lookup answers */
#define CY_SPY_REPORT_MAX ((size_t)1 << 30) /* bytes of one transparency report */

/* The registry's record types (spyware.c): their body schemas, for
 * comity_framework_check_body. */
extern const cy_case_type cy_spy_types[];
extern const size_t cy_spy_ntypes;

/* The registry's type named `type`, or NULL. */
const cy_case_type *cy_spy_type(const char *type);

/* Vocabularies shared with the misuse cases (spyware.c). */
extern const char *const cy_spy_sectors[];
extern const char *const cy_spy_target_kinds[];

/* The author of misuse notice `id`, or NULL when there is none. */
const char *cy_spy_notice_author(const comity_framework *fw, const char *id);
/* Whether `party` (or an office of its state) asked to join notice `id`. */
bool cy_spy_joined(const comity_framework *fw, const char *id, const char *party);

#endif
