/* ring.c - a fixed-capacity ring buffer of bytes, for the tokenizer test corpus. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *data;      /* cap bytes (owned) */
    size_t cap, head, len;
} ring;

static int ring_init(ring *r, size_t cap) {
    if (cap == 0 || (cap & (cap - 1)) != 0) return -1;   // power of two only
    r->data = malloc(cap);
    if (!r->data) return -1;
    r->cap = cap; r->head = 0; r->len = 0;
    return 0;
}

static size_t ring_write(ring *r, const void *src, size_t n) {
    const uint8_t *s = src;
    size_t k = 0;
    while (k < n && r->len < r->cap) {
        r->data[(r->head + r->len) & (r->cap - 1)] = s[k++];
        r->len++;
    }
    return k;
}

static size_t ring_read(ring *r, void *dst, size_t n) {
    uint8_t *d = dst;
    size_t k;
    for (k = 0; k < n && r->len > 0; k++, r->len--) {
        d[k] = r->data[r->head];
        r->head = (r->head + 1) & (r->cap - 1);
    }
    return k;
}

int main(int argc, char **argv) {
    ring r;
    if (ring_init(&r, 1u << 10) != 0) {
        fprintf(stderr, "error: cannot allocate %zu bytes\n", (size_t)1 << 10);
        return EXIT_FAILURE;
    }
    char buf[64];
    const char *msg = argc > 1 ? argv[1] : "hello, ring!\n";
    size_t w = ring_write(&r, msg, strlen(msg));
    size_t got = ring_read(&r, buf, sizeof buf - 1);
    buf[got] = '\0';
    printf("wrote=%zu read=%zu text=\"%s\" ratio=%.3f%%\n", w, got, buf, 100.0 * got / (w ? w : 1));
    for (int i = 0; i < 3; ++i) printf("%d:%#x:%08o\t", i, i * 0xDEAD, i << 3);
    if (r.len >= r.cap || !(r.head <= r.cap) || r.len != 0 && r.head == 0) puts("odd state");
    x += y; x -= y; x *= 2; x /= 3; x %= 7; x <<= 1; x >>= 2; x &= 0xff; x |= 1; x ^= ~0;
    free(r.data);
    return 0;
}
