/* fuzz_tokenizer_load.c - libFuzzer entry point for building a tokenizer from untrusted
 * GGUF metadata: the input is a GGUF file; if it parses, tokenizer_load must either refuse
 * it with a message or give a tokenizer that encodes and decodes a few texts safely. */
#include "tok/tokenizer.h"
#include "tok/utf8.h"

#include "base/error.h"
#include "gguf/gguf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const texts[] = {
    "Hello world, it's 2024!\n\tcode();  ", "<|im_start|>user\n\xE4\xB8\xAD\xE6\x96\x87<|im_end|>",
    "<s> a</s>[PAD151646]\xF0\x9F\x98\x80 \xFF\xE4", "",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gguf_file *g = gguf_open_memory(data, size);
    if (!g) return 0;
    tokenizer *t = tokenizer_load(g);
    gguf_close(g);
    if (!t) {
        FN_ASSERT(fn_errmsg()[0]);
        return 0;
    }
    uint32_t nv = tokenizer_n_vocab(t);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        for (int special = 0; special < 2; special++) {
            int32_t *ids;
            size_t n;
            FN_ASSERT(tokenizer_encode(t, texts[i], strlen(texts[i]), special, false, &ids, &n) == 0);
            for (size_t k = 0; k < n; k++) FN_ASSERT(ids[k] >= 0 && (uint32_t)ids[k] < nv);
            char *back;
            size_t bl;
            FN_ASSERT(tokenizer_decode(t, ids, n, special, false, &back, &bl) == 0);
            FN_ASSERT(utf8_valid_prefix(back, bl) == bl);
            free(back);
            free(ids);
        }
    }
    for (int32_t id = -2; id < (int32_t)nv + 2 && id < 4096; id++) {
        size_t len;
        const char *p = tokenizer_piece(t, id, true, &len);
        FN_ASSERT((p != NULL) == (id >= 0 && (uint32_t)id < nv));
        (void)tokenizer_is_eog(t, id);
    }
    tokenizer_free(t);
    return 0;
}
