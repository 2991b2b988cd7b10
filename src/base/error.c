/* error.c - per-thread error message buffer (see error.h). */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char errbuf[1024];

int fn_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return -1;
}

int fn_error_prefix(const char *fmt, ...) {
    char prefix[512], old[sizeof errbuf];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, errbuf, sizeof old);
    /* Truncating a long message is intended; using the result silences gcc's warning. */
    if (snprintf(errbuf, sizeof errbuf, "%s: %s", prefix, old) < 0) errbuf[0] = 0;
    return -1;
}

const char *fn_errmsg(void) { return errbuf; }

void fn_error_clear(void) { errbuf[0] = 0; }

void fn_assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "fennec: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
    abort();
}
