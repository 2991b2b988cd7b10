/* cli_args.h - small parsers for numeric command-line values with range checks. */
#ifndef FENNEC_CLI_CLI_ARGS_H
#define FENNEC_CLI_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* Parse a whole decimal integer in [lo, hi]; false on junk or out of range. */
bool cli_parse_int(const char *s, long lo, long hi, long *out);
/* Parse a finite float in [lo, hi]. */
bool cli_parse_float(const char *s, double lo, double hi, double *out);

/* Parses "1,2,3" into a heap array of ids (caller frees). NULL with fn_errmsg() on junk. */
int32_t *cli_parse_ids(const char *s, int *n);

/* "f16" or "q8_0" -> FN_F16 / FN_Q8_0 (the KV cache types). */
bool cli_parse_kv_type(const char *s, uint32_t *out);

/* Monotonic clock in seconds. */
double cli_now(void);

#endif
