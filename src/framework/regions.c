/*
 * regions.c: lookups in the M49 table of m49.c (see regions.h).
 */
#include <stdlib.h>
#include <string.h>

#include "framework/regions.h"

static int row_cmp(const void *key, const void *row)
{
    return strcmp(key, ((const cy_m49_row *)row)->code);
}

const cy_m49_row *cy_m49_of(const char *state)
{
    if (!state || strlen(state) != 2)
        return NULL;
    return bsearch(state, cy_m49_rows, cy_m49_nrows, sizeof *cy_m49_rows, row_cmp);
}

const char *cy_m49_name(unsigned code)
{
    for (size_t i = 0; i < cy_m49_nregions; i++)
        if (cy_m49_regions[i].code == code)
            return cy_m49_regions[i].name;
    for (size_t i = 0; i < cy_m49_nsubregions; i++)
        if (cy_m49_subregions[i].code == code)
            return cy_m49_subregions[i].name;
    return NULL;
}
