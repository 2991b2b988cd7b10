/* cli_text.h - text <-> tokens for the subcommands, through the model's own tokenizer. */
#ifndef FENNEC_CLI_CLI_TEXT_H
#define FENNEC_CLI_CLI_TEXT_H

#include <stdbool.h>
#include <stdint.h>

#include "gguf/gguf.h"

/* Reads a text file and tokenizes it with the tokenizer stored in f (BOS first if
 * with_bos and the model wants one). Heap array (caller frees) or NULL + fn_errmsg(). */
int32_t *cli_tokenize_file(const gguf_file *f, const char *path, bool with_bos, int *n);

#endif
