/* atomic_file.c - temp-file + rename writer (see atomic_file.h). */
#include "base/atomic_file.h"

#include "base/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int atomic_file_open(atomic_file *af, const char *path) {
    memset(af, 0, sizeof *af);
    size_t len = strlen(path);
    af->final_path = strdup(path);
    af->tmp_path = malloc(len + 16);
    if (!af->final_path || !af->tmp_path) {
        atomic_file_abort(af);
        return fn_error("%s: out of memory", path);
    }
    memcpy(af->tmp_path, path, len);
    memcpy(af->tmp_path + len, ".tmp.XXXXXX", 12);
    int fd = mkstemp(af->tmp_path);
    if (fd < 0) {
        int e = errno;
        free(af->tmp_path);
        af->tmp_path = NULL;
        atomic_file_abort(af);
        return fn_error("%s: cannot create file: %s", path, strerror(e));
    }
    /* mkstemp creates the file 0600; a finished output gets the usual 0666 & ~umask */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0) {
        int e = errno;
        close(fd);
        unlink(af->tmp_path);
        atomic_file_abort(af);
        return fn_error("%s: cannot set permissions: %s", path, strerror(e));
    }
    af->fp = fdopen(fd, "wb");
    if (!af->fp) {
        close(fd);
        atomic_file_abort(af);
        return fn_error("%s: cannot open stream: %s", path, strerror(errno));
    }
    return 0;
}

int atomic_file_write(atomic_file *af, const void *data, size_t n) {
    if (af->failed) return -1;
    if (n && fwrite(data, 1, n, af->fp) != n) {
        af->failed = 1;
        return fn_error("%s: write failed: %s", af->final_path, strerror(errno));
    }
    return 0;
}

int atomic_file_pad(atomic_file *af, size_t n) {
    static const char zeros[256];
    while (n) {
        size_t k = n < sizeof zeros ? n : sizeof zeros;
        if (atomic_file_write(af, zeros, k)) return -1;
        n -= k;
    }
    return 0;
}

int atomic_file_commit(atomic_file *af) {
    if (af->failed) {
        atomic_file_abort(af);
        return -1;
    }
    if (fflush(af->fp) != 0 || fsync(fileno(af->fp)) != 0) {
        fn_error("%s: flush failed: %s", af->final_path, strerror(errno));
        atomic_file_abort(af);
        return -1;
    }
    if (fclose(af->fp) != 0) {
        af->fp = NULL;
        fn_error("%s: close failed: %s", af->final_path, strerror(errno));
        atomic_file_abort(af);
        return -1;
    }
    af->fp = NULL;
    if (rename(af->tmp_path, af->final_path) != 0) {
        fn_error("%s: rename failed: %s", af->final_path, strerror(errno));
        atomic_file_abort(af);
        return -1;
    }
    free(af->tmp_path);
    free(af->final_path);
    memset(af, 0, sizeof *af);
    return 0;
}

void atomic_file_abort(atomic_file *af) {
    if (af->fp) fclose(af->fp);
    if (af->tmp_path) unlink(af->tmp_path);
    free(af->tmp_path);
    free(af->final_path);
    memset(af, 0, sizeof *af);
}
