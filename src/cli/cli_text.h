/* cli_text.h - text <-> tokens for the subcommands, through the model's own tokenizer. */
#ifndef FENNEC_CLI_CLI_TEXT_H
#define FENNEC_CLI_CLI_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gguf/gguf.h"

/* Whole file into a NUL-terminated heap buffer (caller frees), or NULL + fn_errmsg(). */
char *cli_read_file(const char *path, size_t *len);

/* Tokenizes text with the tokenizer stored in f (BOS first if with_bos and the model
 * wants one; special-token texts parsed if parse_special). Heap array (caller frees) or
 * NULL + fn_errmsg(). */
int32_t *cli_tokenize_text(const gguf_file *f, const char *text, size_t len, bool with_bos, bool parse_special, int *n);

/* Reads a text file and tokenizes it (specials not parsed). */
int32_t *cli_tokenize_file(const gguf_file *f, const char *path, bool with_bos, int *n);

#endif
