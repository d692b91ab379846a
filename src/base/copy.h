/*
 * copy.h: copying a file durably (private), for the operator's backups
 * (src/tlog/backup.c, src/node/backup.c).
 */
#ifndef COMITY_BASE_COPY_H
#define COMITY_BASE_COPY_H

#include <stdint.h>
#include <sys/types.h>

#include "base/base.h"

/* Copies the regular file `from` to `to` (which must not exist:
 * COMITY_ERR_EXISTS) with permissions `mode`, fsyncs the copy and adds its
 * size to *bytes.  On failure `to` is removed. */
comity_err cy_file_copy(const char *from, const char *to, mode_t mode, uint64_t *bytes,
                        comity_error *err);

/* mkdir -p with mode 0700 for the directories it makes. */
comity_err cy_mkdirs(const char *path, comity_error *err);

#endif
