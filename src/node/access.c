/*
 * access.c: sharing levels of TAXII collections (rules listed in node.h).
 *
 * A collection carries one rule for reading and one for writing.  Rules are
 * plain strings in the store, so adding a level never needs a migration;
 * an unknown rule allows nobody but the operator (fail closed).
 */
#include <string.h>

#include "node/node.h"

static bool state_of(const char *party, const char *state)
{
    size_t n = strcspn(party, ".");
    return strlen(state) == n && strncmp(party, state, n) == 0;
}

bool cy_access_allows(const char *rule, const cy_principal *who)
{
    if (strcmp(rule, "public") == 0)
        return true;
    if (!who)
        return false;
    if (strcmp(who->kind, "operator") == 0)
        return true;
    if (strcmp(who->kind, "party") != 0)
        return false;
    if (strcmp(rule, "parties") == 0)
        return true;
    if (strncmp(rule, "state:", 6) == 0)
        return state_of(who->name, rule + 6);
    if (strncmp(rule, "party:", 6) == 0)
        return strcmp(who->name, rule + 6) == 0;
    return false;
}

bool cy_access_gate(const char *rule, const void *who)
{
    return cy_access_allows(rule, who);
}

bool cy_access_rule_valid(const char *rule)
{
    if (!strcmp(rule, "public") || !strcmp(rule, "parties") || !strcmp(rule, "operator"))
        return true;
    if (!strncmp(rule, "party:", 6) || !strncmp(rule, "state:", 6))
        return comity_party_valid(rule + 6, NULL);
    return false;
}
