// tokenizer.mjs - llama.cpp's tokenizer speed (via node-llama-cpp) on a text file, for
// bench/tokenizer.sh. Times only the native tokenize call (the addon's own method, so no
// JS array copying); the text is converted to UTF-8 inside that call, as any caller would.
// usage: node tokenizer.mjs VOCAB.gguf TEXT_FILE [REPEAT]
// prints: "<tokens> <best seconds> <MB/s>"
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const oracle = path.join(here, "..", "tests", "oracle");
const entry = createRequire(path.join(oracle, "package.json")).resolve("node-llama-cpp");
const { getLlama } = await import(pathToFileURL(entry).href);

const [vocab, file, repeatArg] = process.argv.slice(2);
const repeat = Number(repeatArg ?? 3);
const text = fs.readFileSync(file, "utf8");
const bytes = Buffer.byteLength(text, "utf8");
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });
const model = await llama.loadModel({ modelPath: vocab, vocabOnly: true });
const native = model._model; // LlamaModel.tokenize wraps this and copies into an Array

let best = Infinity, n = 0;
for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    const ids = native.tokenize(text, false);
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    n = ids.length;
    if (dt < best) best = dt;
}
console.log(`${n} ${best.toFixed(6)} ${(bytes / best / 1e6).toFixed(3)}`);
await model.dispose();
