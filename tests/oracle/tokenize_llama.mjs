// tokenize_llama.mjs - compares `fennec tokenize --ids` with llama.cpp (node-llama-cpp) on
// every (vocabulary, corpus file) pair, without and (for files that spell special tokens)
// with special-token parsing. Prints one line per mismatch with the first differing position,
// then "N passed, M failed"; exits 1 on any mismatch.
//
// usage: node tokenize_llama.mjs --fennec BIN --corpus DIR VOCAB.gguf...
import { getLlama } from "node-llama-cpp";
import { execFile } from "node:child_process";
import os from "node:os";
import fs from "node:fs";
import path from "node:path";

const args = process.argv.slice(2);
let fennec = null, corpus = null;
const vocabs = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === "--fennec") fennec = args[++i];
    else if (args[i] === "--corpus") corpus = args[++i];
    else vocabs.push(args[i]);
}
if (!fennec || !corpus || vocabs.length === 0) {
    console.error("usage: node tokenize_llama.mjs --fennec BIN --corpus DIR VOCAB.gguf...");
    process.exit(2);
}

const files = fs.readdirSync(corpus).filter((f) => !f.startsWith(".")).sort()
    .map((f) => path.join(corpus, f));
const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });

// fennec runs in the background, a few at a time, while llama.cpp works in this process
function fennecIds(vocab, file, special) {
    const argv = ["tokenize", "-m", vocab, "--ids", "--file", file];
    if (special) argv.push("--special");
    return new Promise((resolve, reject) => {
        execFile(fennec, argv, { encoding: "utf8", maxBuffer: 1 << 28 }, (err, out, errOut) => {
            if (err) reject(new Error(errOut.trim() || err.message));
            else resolve(out.trim() === "" ? [] : out.trim().split(" ").map(Number));
        });
    });
}
const parallel = Math.max(1, Math.min(4, os.availableParallelism?.() ?? 2));
async function mapLimited(items, fn) {
    const results = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await fn(items[i]).then((v) => ({ v }), (e) => ({ e }));
        }
    };
    await Promise.all(Array.from({ length: parallel }, worker));
    return results;
}

const show = (s) => JSON.stringify(s).slice(1, -1);

let passed = 0, failed = 0;
for (const vocab of vocabs) {
    const model = await llama.loadModel({ modelPath: vocab, vocabOnly: true });
    const piece = (id) => id === undefined ? "(end)" :
        `${id} '${show(model.detokenize([id], true))}'`;
    const jobs = [];
    for (const file of files) {
        const text = fs.readFileSync(file, "utf8");
        const modes = /<\|im_start\|>|<\|endoftext\|>|<s>/.test(text) ? [false, true] : [false];
        for (const special of modes) jobs.push({ file, text, special });
    }
    const results = await mapLimited(jobs, (j) => fennecIds(vocab, j.file, j.special));
    jobs.forEach(({ file, text, special }, k) => {
        const label = `${path.basename(vocab)} ${path.basename(file)}${special ? " --special" : ""}`;
        if (results[k].e) {
            failed++;
            console.log(`FAIL ${label}: fennec failed: ${results[k].e.message.split("\n")[0]}`);
            return;
        }
        const got = results[k].v;
        const want = Array.from(model.tokenize(text, special));
        let i = 0;
        while (i < want.length && i < got.length && want[i] === got[i]) i++;
        if (i === want.length && i === got.length) {
            passed++;
            return;
        }
        failed++;
        const before = show(model.detokenize(want.slice(Math.max(0, i - 8), i), true));
        console.log(`FAIL ${label}: first difference at token ${i} of ${want.length} ` +
            `(fennec has ${got.length}): llama.cpp ${piece(want[i])}, fennec ${piece(got[i])}; ` +
            `after "${before}"`);
    });
    await model.dispose();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
