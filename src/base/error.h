/* error.h - one precise error message per thread, set by library code that fails.
 * Library functions return a status (or NULL) and record why with fn_error(); callers
 * read it with fn_errmsg(). Programmer bugs use FN_ASSERT, which aborts with file:line. */
#ifndef FENNEC_BASE_ERROR_H
#define FENNEC_BASE_ERROR_H

#include <stddef.h>

/* Records a printf-style message for this thread and returns -1 so callers can write
 * `return fn_error("...")`. The message replaces any earlier one. */
int fn_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prepends "prefix: " to the current message (adds context while unwinding). Returns -1. */
int fn_error_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The last message recorded on this thread ("" if none). Valid until the next fn_error. */
const char *fn_errmsg(void);

/* Clears this thread's message. */
void fn_error_clear(void);

void fn_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));
#define FN_ASSERT(x) ((x) ? (void)0 : fn_assert_fail(#x, __FILE__, __LINE__))

#define FN_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
