/* ops.c - per-row operations of the forward pass (see ops.h). */
#include "model/ops.h"

#include <math.h>
#include <string.h>

void op_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double sum = 0.0; /* double: the mean of squares over thousands of elements */
    for (int i = 0; i < n; i++) sum += (double)x[i] * x[i];
    float scale = 1.0f / sqrtf((float)(sum / n) + eps);
    if (w)
        for (int i = 0; i < n; i++) out[i] = x[i] * scale * w[i];
    else
        for (int i = 0; i < n; i++) out[i] = x[i] * scale;
}

/* YaRN: the dimension index where a rotary pair makes n_rot rotations over the original
 * context, used to place the ramp between interpolated and extrapolated frequencies. */
static float yarn_corr_dim(int n_dims, int n_ctx_orig, float n_rot, float base) {
    return n_dims * logf(n_ctx_orig / (n_rot * 2.0f * (float)M_PI)) / (2.0f * logf(base));
}

void rope_table_init(rope_table *t, const model_hparams *hp, bool neox, const float *freq_factors) {
    memset(t, 0, sizeof *t);
    t->n_rot = (int)hp->n_rot;
    t->neox = neox;
    for (int i = 0; i < t->n_rot / 2; i++) {
        t->inv_freq[i] = powf(hp->rope_freq_base, -2.0f * (float)i / (float)t->n_rot);
        if (freq_factors) t->inv_freq[i] /= freq_factors[i];
    }
    t->freq_scale = 1.0f;
    t->attn_factor = 1.0f;
    if (hp->rope_scaling == ROPE_SCALING_LINEAR || hp->rope_scaling == ROPE_SCALING_YARN)
        t->freq_scale = 1.0f / hp->rope_scale_factor;
    if (hp->rope_scaling == ROPE_SCALING_YARN) {
        t->ext_factor = hp->yarn_ext_factor < 0 ? 1.0f : hp->yarn_ext_factor;
        t->attn_factor = hp->yarn_attn_factor;
        int orig = (int)(hp->rope_orig_ctx ? hp->rope_orig_ctx : hp->n_ctx_train);
        float lo = floorf(yarn_corr_dim(t->n_rot, orig, hp->yarn_beta_fast, hp->rope_freq_base));
        float hi = ceilf(yarn_corr_dim(t->n_rot, orig, hp->yarn_beta_slow, hp->rope_freq_base));
        t->corr_low = lo > 0 ? lo : 0;
        t->corr_high = hi < t->n_rot - 1 ? hi : (float)(t->n_rot - 1);
    }
}

static float yarn_ramp(float low, float high, int i0) {
    float y = (i0 / 2 - low) / fmaxf(0.001f, high - low);
    return 1.0f - fminf(1.0f, fmaxf(0.0f, y));
}

void op_rope(const rope_table *t, float *x, int n_heads, int head_dim, int pos) {
    int half = t->n_rot / 2;
    float cs[256], sn[256];
    for (int i = 0; i < half; i++) {
        float theta_extrap = (float)pos * t->inv_freq[i];
        float theta = t->freq_scale * theta_extrap, mscale = t->attn_factor;
        if (t->ext_factor != 0.0f) {
            float mix = yarn_ramp(t->corr_low, t->corr_high, 2 * i) * t->ext_factor;
            theta = theta * (1 - mix) + theta_extrap * mix;
            mscale *= 1.0f + 0.1f * logf(1.0f / t->freq_scale);
        }
        cs[i] = cosf(theta) * mscale;
        sn[i] = sinf(theta) * mscale;
    }
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int i = 0; i < half; i++) {
            int a = t->neox ? i : 2 * i, b = t->neox ? i + half : 2 * i + 1;
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * cs[i] - x1 * sn[i];
            v[b] = x0 * sn[i] + x1 * cs[i];
        }
    }
}

void op_swiglu(float *out, const float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) {
        float g = gate[i];
        out[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void op_route_topk(const float *logits, int n_expert, int k, bool renorm, int32_t *experts, float *weights) {
    float max = logits[0];
    for (int e = 1; e < n_expert; e++) max = fmaxf(max, logits[e]);
    double sum = 0.0;
    for (int e = 0; e < n_expert; e++) sum += expf(logits[e] - max);
    /* selection by the logits (same order as the probabilities) */
    for (int j = 0; j < k; j++) {
        int best = -1;
        for (int e = 0; e < n_expert; e++) {
            bool taken = false;
            for (int i = 0; i < j && !taken; i++) taken = experts[i] == e;
            if (!taken && (best < 0 || logits[e] > logits[best])) best = e;
        }
        experts[j] = best;
        weights[j] = (float)(expf(logits[best] - max) / sum);
    }
    if (renorm) {
        float total = 0.0f;
        for (int j = 0; j < k; j++) total += weights[j];
        for (int j = 0; j < k; j++) weights[j] /= total;
    }
}
