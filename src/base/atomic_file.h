/* atomic_file.h - write a file under a temporary name and rename it into place only when
 * complete, so a failed or interrupted write never leaves a half-written output behind. */
#ifndef FENNEC_BASE_ATOMIC_FILE_H
#define FENNEC_BASE_ATOMIC_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *fp;          /* open stream on the temporary file (owned) */
    char *final_path;  /* destination path (owned copy) */
    char *tmp_path;    /* "<final>.tmp.XXXXXX" in the same directory (owned) */
    int failed;        /* set by atomic_file_write on a short write */
} atomic_file;

/* Creates the temporary file next to `path`. Returns 0, or -1 with fn_errmsg() set. */
int atomic_file_open(atomic_file *af, const char *path);

/* Writes n bytes; on failure records the error, marks the file failed and returns -1. */
int atomic_file_write(atomic_file *af, const void *data, size_t n);

/* Writes `n` zero bytes (padding). */
int atomic_file_pad(atomic_file *af, size_t n);

/* Flushes, fsyncs and renames onto the final path. On any failure (or an earlier failed
 * write) the temporary is removed and -1 returned. Frees af's members in all cases. */
int atomic_file_commit(atomic_file *af);

/* Closes and removes the temporary file without touching the destination. Safe to call
 * on a zeroed or already-finished struct. */
void atomic_file_abort(atomic_file *af);

#endif
