/* cmd_make_model.c - `fennec make-model`: write a synthetic model (see model/synth.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "cli/cli.h"
#include "model/quant_recipe.h"
#include "model/synth.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: fennec make-model --preset NAME [--layers N] [--type TYPE] [--vocab FILE]\n"
            "                         [--seed N] [--output-scale F] [--tied] [-v] -o OUT.gguf\n\n"
            "Writes a model with seeded random weights in a real architecture's shape.\n\n"
            "  --preset NAME      architecture and shape (below)\n"
            "  --layers N         number of transformer blocks (default: the preset's)\n"
            "  --type TYPE        %s (default f16)\n"
            "  --vocab FILE       copy the tokenizer from this GGUF (default: built-in byte-level BPE)\n"
            "  --seed N           random seed (default 1); same seed = same weights in every type\n"
            "  --output-scale F   standard deviation of the initial logits (default 4)\n"
            "  --tied             no output.weight: the token embedding doubles as the output\n"
            "  --rope-scaling linear:F | yarn:F   extend the context F times (rope.scaling.* keys)\n"
            "  -v                 list the tensors written\n"
            "  -o OUT.gguf        output file (written atomically)\n\npresets:\n",
            quant_recipe_names());
    for (size_t i = 0; i < synth_preset_count(); i++)
        fprintf(out, "  %-20s %s\n", synth_preset_at(i)->name, synth_preset_at(i)->description);
}

static int parse_u64(const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') return -1;
    *out = v;
    return 0;
}

int cmd_make_model(int argc, char **argv) {
    synth_options o = {.type = "f16", .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-v")) {
            o.verbose = 1;
        } else if (!strcmp(a, "--tied")) {
            o.tied_output = 1;
        } else if (!strcmp(a, "--preset") || !strcmp(a, "--layers") || !strcmp(a, "--type") ||
                   !strcmp(a, "--vocab") || !strcmp(a, "--seed") || !strcmp(a, "-o") ||
                   !strcmp(a, "--output-scale") || !strcmp(a, "--rope-scaling")) {
            if (!val) return cli_fail("make-model: %s needs a value", a);
            i++;
            if (!strcmp(a, "--preset")) o.preset = val;
            else if (!strcmp(a, "--type")) o.type = val;
            else if (!strcmp(a, "--vocab")) o.vocab_path = val;
            else if (!strcmp(a, "-o")) o.out_path = val;
            else if (!strcmp(a, "--rope-scaling")) {
                char kind[16];
                float f;
                if (sscanf(val, "%15[a-z]:%f", kind, &f) != 2 || (strcmp(kind, "linear") && strcmp(kind, "yarn")) ||
                    !(f > 1.0f && f <= 64.0f))
                    return cli_fail("make-model: --rope-scaling must be linear:F or yarn:F with 1 < F <= 64");
                o.rope_scaling = !strcmp(kind, "yarn") ? ROPE_SCALING_YARN : ROPE_SCALING_LINEAR;
                o.rope_scale_factor = f;
            }
            else if (!strcmp(a, "--seed")) {
                if (parse_u64(val, &o.seed)) return cli_fail("make-model: --seed '%s' is not a non-negative integer", val);
            } else if (!strcmp(a, "--layers")) {
                uint64_t n;
                if (parse_u64(val, &n) || n < 1 || n > 1024) return cli_fail("make-model: --layers '%s' must be 1..1024", val);
                o.n_layers = (int)n;
            } else {
                char *end;
                o.output_scale = strtof(val, &end);
                if (end == val || *end || !(o.output_scale > 0 && o.output_scale < 1000))
                    return cli_fail("make-model: --output-scale '%s' must be a number in (0, 1000)", val);
            }
        } else {
            return cli_fail("make-model: unknown argument '%s' (see --help)", a);
        }
    }
    if (!o.preset) return cli_fail("make-model: --preset is required (see --help for the list)");
    if (!synth_preset_find(o.preset)) return cli_fail("make-model: unknown preset '%s' (see --help for the list)", o.preset);
    if (!quant_recipe_find(o.type)) return cli_fail("make-model: unknown type '%s' (expected one of: %s)", o.type, quant_recipe_names());
    if (!o.out_path) return cli_fail("make-model: -o OUT.gguf is required");
    if (synth_write_model(&o)) return cli_fail("make-model: %s", fn_errmsg());
    fprintf(stderr, "wrote %s\n", o.out_path);
    return 0;
}
