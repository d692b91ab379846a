/*
 * m49.c: the UN M49 geographic regions of states, by ISO 3166-1 alpha-2
 * code: data only (the lookups are in regions.c).
 *
 * Source: United Nations Statistics Division, "Standard country or area
 * codes for statistical use (M49)", https://unstats.un.org/unsd/methodology/m49/
 * (regions and sub-regions of the geoscheme), as tabulated with ISO 3166
 * codes in github.com/lukes/ISO-3166-Countries-with-Regional-Codes,
 * all/all.csv at 145f1ad3caff212ed25f42b0ee2c8b92a75af895 (2024-06-30).
 * Facts only: each row is a code, its region's M49 code and its
 * sub-region's.  Areas M49 places in no region (Antarctica, AQ) and codes
 * M49 does not list (TW) have no row; a state code outside this table
 * (e.g. "un", or a code of more than two letters) has no region.
 * 247 rows, sorted by code (looked up by binary search).
 */
#include "framework/regions.h"

const cy_m49_row cy_m49_rows[] = {
    {"ad", 150, 39}, {"ae", 142, 145}, {"af", 142, 34}, {"ag", 19, 419}, {"ai", 19, 419},
    {"al", 150, 39}, {"am", 142, 145}, {"ao", 2, 202}, {"ar", 19, 419}, {"as", 9, 61},
    {"at", 150, 155}, {"au", 9, 53}, {"aw", 19, 419}, {"ax", 150, 154}, {"az", 142, 145},
    {"ba", 150, 39}, {"bb", 19, 419}, {"bd", 142, 34}, {"be", 150, 155}, {"bf", 2, 202},
    {"bg", 150, 151}, {"bh", 142, 145}, {"bi", 2, 202}, {"bj", 2, 202}, {"bl", 19, 419},
    {"bm", 19, 21}, {"bn", 142, 35}, {"bo", 19, 419}, {"bq", 19, 419}, {"br", 19, 419},
    {"bs", 19, 419}, {"bt", 142, 34}, {"bv", 19, 419}, {"bw", 2, 202}, {"by", 150, 151},
    {"bz", 19, 419}, {"ca", 19, 21}, {"cc", 9, 53}, {"cd", 2, 202}, {"cf", 2, 202},
    {"cg", 2, 202}, {"ch", 150, 155}, {"ci", 2, 202}, {"ck", 9, 61}, {"cl", 19, 419},
    {"cm", 2, 202}, {"cn", 142, 30}, {"co", 19, 419}, {"cr", 19, 419}, {"cu", 19, 419},
    {"cv", 2, 202}, {"cw", 19, 419}, {"cx", 9, 53}, {"cy", 142, 145}, {"cz", 150, 151},
    {"de", 150, 155}, {"dj", 2, 202}, {"dk", 150, 154}, {"dm", 19, 419}, {"do", 19, 419},
    {"dz", 2, 15}, {"ec", 19, 419}, {"ee", 150, 154}, {"eg", 2, 15}, {"eh", 2, 15},
    {"er", 2, 202}, {"es", 150, 39}, {"et", 2, 202}, {"fi", 150, 154}, {"fj", 9, 54},
    {"fk", 19, 419}, {"fm", 9, 57}, {"fo", 150, 154}, {"fr", 150, 155}, {"ga", 2, 202},
    {"gb", 150, 154}, {"gd", 19, 419}, {"ge", 142, 145}, {"gf", 19, 419}, {"gg", 150, 154},
    {"gh", 2, 202}, {"gi", 150, 39}, {"gl", 19, 21}, {"gm", 2, 202}, {"gn", 2, 202},
    {"gp", 19, 419}, {"gq", 2, 202}, {"gr", 150, 39}, {"gs", 19, 419}, {"gt", 19, 419},
    {"gu", 9, 57}, {"gw", 2, 202}, {"gy", 19, 419}, {"hk", 142, 30}, {"hm", 9, 53},
    {"hn", 19, 419}, {"hr", 150, 39}, {"ht", 19, 419}, {"hu", 150, 151}, {"id", 142, 35},
    {"ie", 150, 154}, {"il", 142, 145}, {"im", 150, 154}, {"in", 142, 34}, {"io", 2, 202},
    {"iq", 142, 145}, {"ir", 142, 34}, {"is", 150, 154}, {"it", 150, 39}, {"je", 150, 154},
    {"jm", 19, 419}, {"jo", 142, 145}, {"jp", 142, 30}, {"ke", 2, 202}, {"kg", 142, 143},
    {"kh", 142, 35}, {"ki", 9, 57}, {"km", 2, 202}, {"kn", 19, 419}, {"kp", 142, 30},
    {"kr", 142, 30}, {"kw", 142, 145}, {"ky", 19, 419}, {"kz", 142, 143}, {"la", 142, 35},
    {"lb", 142, 145}, {"lc", 19, 419}, {"li", 150, 155}, {"lk", 142, 34}, {"lr", 2, 202},
    {"ls", 2, 202}, {"lt", 150, 154}, {"lu", 150, 155}, {"lv", 150, 154}, {"ly", 2, 15},
    {"ma", 2, 15}, {"mc", 150, 155}, {"md", 150, 151}, {"me", 150, 39}, {"mf", 19, 419},
    {"mg", 2, 202}, {"mh", 9, 57}, {"mk", 150, 39}, {"ml", 2, 202}, {"mm", 142, 35},
    {"mn", 142, 30}, {"mo", 142, 30}, {"mp", 9, 57}, {"mq", 19, 419}, {"mr", 2, 202},
    {"ms", 19, 419}, {"mt", 150, 39}, {"mu", 2, 202}, {"mv", 142, 34}, {"mw", 2, 202},
    {"mx", 19, 419}, {"my", 142, 35}, {"mz", 2, 202}, {"na", 2, 202}, {"nc", 9, 54},
    {"ne", 2, 202}, {"nf", 9, 53}, {"ng", 2, 202}, {"ni", 19, 419}, {"nl", 150, 155},
    {"no", 150, 154}, {"np", 142, 34}, {"nr", 9, 57}, {"nu", 9, 61}, {"nz", 9, 53},
    {"om", 142, 145}, {"pa", 19, 419}, {"pe", 19, 419}, {"pf", 9, 61}, {"pg", 9, 54},
    {"ph", 142, 35}, {"pk", 142, 34}, {"pl", 150, 151}, {"pm", 19, 21}, {"pn", 9, 61},
    {"pr", 19, 419}, {"ps", 142, 145}, {"pt", 150, 39}, {"pw", 9, 57}, {"py", 19, 419},
    {"qa", 142, 145}, {"re", 2, 202}, {"ro", 150, 151}, {"rs", 150, 39}, {"ru", 150, 151},
    {"rw", 2, 202}, {"sa", 142, 145}, {"sb", 9, 54}, {"sc", 2, 202}, {"sd", 2, 15},
    {"se", 150, 154}, {"sg", 142, 35}, {"sh", 2, 202}, {"si", 150, 39}, {"sj", 150, 154},
    {"sk", 150, 151}, {"sl", 2, 202}, {"sm", 150, 39}, {"sn", 2, 202}, {"so", 2, 202},
    {"sr", 19, 419}, {"ss", 2, 202}, {"st", 2, 202}, {"sv", 19, 419}, {"sx", 19, 419},
    {"sy", 142, 145}, {"sz", 2, 202}, {"tc", 19, 419}, {"td", 2, 202}, {"tf", 2, 202},
    {"tg", 2, 202}, {"th", 142, 35}, {"tj", 142, 143}, {"tk", 9, 61}, {"tl", 142, 35},
    {"tm", 142, 143}, {"tn", 2, 15}, {"to", 9, 61}, {"tr", 142, 145}, {"tt", 19, 419},
    {"tv", 9, 61}, {"tz", 2, 202}, {"ua", 150, 151}, {"ug", 2, 202}, {"um", 9, 57},
    {"us", 19, 21}, {"uy", 19, 419}, {"uz", 142, 143}, {"va", 150, 39}, {"vc", 19, 419},
    {"ve", 19, 419}, {"vg", 19, 419}, {"vi", 19, 419}, {"vn", 142, 35}, {"vu", 9, 54},
    {"wf", 9, 61}, {"ws", 9, 61}, {"ye", 142, 145}, {"yt", 2, 202}, {"za", 2, 202},
    {"zm", 2, 202}, {"zw", 2, 202},
};
const size_t cy_m49_nrows = sizeof cy_m49_rows / sizeof *cy_m49_rows;

/* M49 regions (code, English name as M49 gives it). */
const cy_m49_area cy_m49_regions[] = {
    {2, "Africa", 0},
    {9, "Oceania", 0},
    {19, "Americas", 0},
    {142, "Asia", 0},
    {150, "Europe", 0},
};
const size_t cy_m49_nregions = sizeof cy_m49_regions / sizeof *cy_m49_regions;

/* M49 sub-regions (code, name, region). */
const cy_m49_area cy_m49_subregions[] = {
    {15, "Northern Africa", 2},
    {21, "Northern America", 19},
    {30, "Eastern Asia", 142},
    {34, "Southern Asia", 142},
    {35, "South-eastern Asia", 142},
    {39, "Southern Europe", 150},
    {53, "Australia and New Zealand", 9},
    {54, "Melanesia", 9},
    {57, "Micronesia", 9},
    {61, "Polynesia", 9},
    {143, "Central Asia", 142},
    {145, "Western Asia", 142},
    {151, "Eastern Europe", 150},
    {154, "Northern Europe", 150},
    {155, "Western Europe", 150},
    {202, "Sub-Saharan Africa", 2},
    {419, "Latin America and the Caribbean", 19},
};
const size_t cy_m49_nsubregions = sizeof cy_m49_subregions / sizeof *cy_m49_subregions;
