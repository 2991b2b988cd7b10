// llama_eval.mjs - runs llama.cpp (through node-llama-cpp, prebuilt CPU build) on a GGUF
// file, as the reference the tests compare Fennec against. Test-time only.
//
//   node llama_eval.mjs info MODEL                    -> {"n_vocab":…, "arch":…}
//   node llama_eval.mjs probs MODEL IDS               -> next-token distribution after every
//                                                        prefix of IDS (comma-separated):
//                                                        {"probs":[[p0,p1,…], …]}
//   node llama_eval.mjs generate MODEL IDS N          -> greedy continuation of IDS:
//                                                        {"tokens":[…]}
//   node llama_eval.mjs tokenize MODEL TEXT           -> {"tokens":[…]} (no specials, no BOS)
// Environment: LLAMA_THREADS (default 1).
import {getLlama} from "node-llama-cpp";

const [cmd, modelPath, arg1, arg2] = process.argv.slice(2);
if (!cmd || !modelPath) {
    console.error("usage: node llama_eval.mjs info|probs|generate|tokenize MODEL [ARGS]");
    process.exit(2);
}
const threads = Number(process.env.LLAMA_THREADS || 1);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const vocabOnly = cmd === "tokenize";
const model = await llama.loadModel({modelPath, vocabOnly, gpuLayers: 0});
const out = {};

if (cmd === "tokenize") {
    out.tokens = Array.from(model.tokenize(arg1, false));
} else if (cmd === "info") {
    out.n_vocab = model.tokens.count ?? model.vocabularySize;
    out.arch = model.fileInfo.metadata.general.architecture;
} else {
    const ids = arg1.split(",").filter((s) => s.length).map(Number);
    const context = await model.createContext({contextSize: Math.max(256, ids.length + 128), threads,
                                               batchSize: Math.max(ids.length, 1), sequences: 1});
    const seq = context.getSequence();
    if (cmd === "probs") {
        const nVocab = model.tokens ? undefined : undefined;
        const input = ids.map((id) => [id, {generateNext: {probabilities: true,
                                   options: {temperature: 1, topK: 0, topP: 1, minP: 0}}}]);
        const res = await seq.controlledEvaluate(input);
        out.probs = res.map((r) => {
            const m = r?.next?.probabilities;
            if (!m) return null;
            let max = -1;
            for (const k of m.keys()) max = Math.max(max, k);
            const arr = new Array(max + 1).fill(0);
            for (const [k, v] of m) arr[k] = v;
            return arr;
        });
        void nVocab;
    } else if (cmd === "generate") {
        const n = Number(arg2);
        const tokens = [];
        for await (const t of seq.evaluate(ids, {temperature: 0})) {
            tokens.push(t);
            if (tokens.length >= n) break;
        }
        out.tokens = tokens;
    } else {
        console.error(`unknown command ${cmd}`);
        process.exit(2);
    }
    await context.dispose();
}
await model.dispose();
process.stdout.write(JSON.stringify(out) + "\n");
