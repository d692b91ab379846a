/*
 * age_out.c: temporary-file-then-rename output for seal and open (see
 * age_out.h).  A signal that ends the command (Ctrl-C, kill, hang-up) while
 * a temporary file exists removes it first, so that nothing is left behind.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "age_out.h"
#include "cli.h"

/* The temporary file to remove if a signal ends the process. */
static char pending[PATH_MAX];
static volatile sig_atomic_t have_pending;

static void on_signal(int sig)
{
    if (have_pending)
        unlink(pending); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void watch(const char *tmp)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    memcpy(pending, tmp, sizeof pending);
    have_pending = 1;
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static void unwatch(void) { have_pending = 0; }

int age_out_open(struct age_out *o, const char *path, unsigned mode)
{
    memset(o, 0, sizeof *o);
    if (!path || strcmp(path, "-") == 0) {
        o->f = stdout;
        return CLI_OK;
    }
    o->path = path;
    if (snprintf(o->tmp, sizeof o->tmp, "%s.XXXXXX", path) >= (int)sizeof o->tmp) {
        fprintf(stderr, "comity: %s: path too long\n", path);
        return CLI_USAGE;
    }
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        fprintf(stderr, "comity: cannot create a file beside %s: %s\n", path,
                strerror(errno));
        o->tmp[0] = 0;
        return errno == ENOENT || errno == EACCES ? CLI_USAGE : CLI_FAIL;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || !(o->f = fdopen(fd, "wb"))) {
        fprintf(stderr, "comity: %s: %s\n", o->tmp, strerror(errno));
        close(fd);
        unlink(o->tmp);
        o->tmp[0] = 0;
        return CLI_FAIL;
    }
    watch(o->tmp);
    return CLI_OK;
}

bool age_out_is_tty(const struct age_out *o)
{
    return o->f == stdout && isatty(STDOUT_FILENO);
}

void age_out_abort(struct age_out *o)
{
    if (o->path && o->f) {
        fclose(o->f);
        unlink(o->tmp);
        unwatch();
    }
    o->f = NULL;
}

int age_out_commit(struct age_out *o)
{
    if (!o->path)
        return cli_finish(CLI_OK);
    int e = 0;
    if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0)
        e = errno;
    if (fclose(o->f) != 0 && !e)
        e = errno;
    o->f = NULL;
    if (!e && rename(o->tmp, o->path) != 0)
        e = errno;
    if (e) {
        fprintf(stderr, "comity: writing %s: %s\n", o->path, strerror(e));
        unlink(o->tmp);
    }
    unwatch();
    return e ? CLI_FAIL : CLI_OK;
}
