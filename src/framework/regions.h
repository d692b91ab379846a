/*
 * regions.h: the UN M49 geographic regions of states (regions.c; the
 * table is m49.c, data only, with its source).  A state is the first
 * label of a party name ("pk" of "pk.mofa"), taken as an ISO 3166-1
 * alpha-2 code; one M49 does not list has no region.
 */
#ifndef COMITY_FRAMEWORK_REGIONS_H
#define COMITY_FRAMEWORK_REGIONS_H

#include <stddef.h>

typedef struct cy_m49_row {
    char code[3];        /* ISO 3166-1 alpha-2, lowercase */
    unsigned short region, subregion; /* M49 codes */
} cy_m49_row;

typedef struct cy_m49_area {
    unsigned short code;
    const char *name;
    unsigned short parent; /* a sub-region's region; 0 for a region */
} cy_m49_area;

extern const cy_m49_row cy_m49_rows[];
extern const size_t cy_m49_nrows;
extern const cy_m49_area cy_m49_regions[];
extern const size_t cy_m49_nregions;
extern const cy_m49_area cy_m49_subregions[];
extern const size_t cy_m49_nsubregions;

/* The M49 row of `state` (a state code, lowercase), or NULL. */
const cy_m49_row *cy_m49_of(const char *state);
/* The name of M49 region or sub-region `code`, or NULL. */
const char *cy_m49_name(unsigned code);

#endif
