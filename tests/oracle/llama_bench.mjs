// llama_bench.mjs MODEL P N THREADS REPS - llama.cpp (node-llama-cpp@3.21.1 prebuilt CPU
// build) speed, measured like llama-bench: pp = one batch of P tokens into an empty
// context; tg = N tokens generated one at a time (greedy). Prints one JSON line with the
// median of REPS runs. Used by bench/vs-llamacpp.sh; not a test.
import {getLlama} from "node-llama-cpp";

const [modelPath, P, N, T, R] = process.argv.slice(2);
const p = Number(P), n = Number(N), threads = Number(T), reps = Number(R || 3);
const fa = process.env.LLAMA_FLASH_ATTENTION === "1";
const llama = await getLlama({gpu: false, build: "never", logLevel: "error", maxThreads: threads});
const model = await llama.loadModel({modelPath, gpuLayers: 0});
const context = await model.createContext({contextSize: p + n + 64, batchSize: Math.max(p, 1), sequences: 1,
                                           threads: {ideal: threads, min: threads}, flashAttention: fa});
const nVocab = model.fileInfo?.metadata?.tokenizer?.ggml?.tokens?.length ?? 700;
let seed = 1234;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) % Math.min(nVocab, 1000);
const prompt = Array.from({length: p}, rand);
const median = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const pp = [], tg = [];
const seq = context.getSequence();
await seq.evaluateWithoutGeneratingNewTokens(prompt.slice(0, 16)); // warm-up
await seq.clearHistory();
for (let r = 0; r < reps; r++) {
    if (p > 0) {
        const t0 = performance.now();
        await seq.evaluateWithoutGeneratingNewTokens(prompt);
        pp.push(p / ((performance.now() - t0) / 1000));
        await seq.clearHistory();
    }
    if (n > 0) {
        let count = 0;
        const t0 = performance.now();
        for await (const t of seq.evaluate([prompt[0] ?? 1], {temperature: 0})) {
            void t;
            if (++count >= n) break;
        }
        tg.push(n / ((performance.now() - t0) / 1000));
        await seq.clearHistory();
    }
}
console.log(JSON.stringify({engine: "llama.cpp", build: `node-llama-cpp ${llama.buildType} cpu`, threads,
                            flash_attention: fa, pp_tokens_per_s: p ? median(pp) : 0, tg_tokens_per_s: n ? median(tg) : 0}));
await context.dispose();
await model.dispose();
