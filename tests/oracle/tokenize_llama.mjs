// tokenize_llama.mjs - compares `fennec tokenize --ids` with llama.cpp (node-llama-cpp) for
// every vocabulary given, on the corpus files joined into one text (one fennec run, as a
// vocabulary load dominates its time), without special-token parsing, and on the files that
// spell special tokens with it. Prints one line per mismatch with the first differing
// position and the file it falls in, then "N passed, M failed"; exits 1 on any mismatch.
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
// the corpus joined into one text, and the files that spell special tokens joined again
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tokenize_llama."));
process.on("exit", () => fs.rmSync(tmp, { recursive: true, force: true }));
const allParts = files.map((f) => {
    const text = fs.readFileSync(f, "utf8");
    return { name: path.basename(f), text, bytes: Buffer.byteLength(text, "utf8") };
});
const specialParts = allParts.filter((p) => /<\|im_start\|>|<\|endoftext\|>|<s>/.test(p.text));
const allFile = path.join(tmp, "all.txt"), specialFile = path.join(tmp, "special.txt");
fs.writeFileSync(allFile, allParts.map((p) => p.text).join(""));
fs.writeFileSync(specialFile, specialParts.map((p) => p.text).join(""));

const llama = await getLlama({ gpu: false, build: "never", logLevel: "error" });

// fennec runs in the background, a few at a time, while llama.cpp works in this process
function fennecIds(vocab, file, special) {
    // (the joined texts are written to a temporary file per mode below)
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
    for (const special of [false, true]) {
        const parts = special ? specialParts : allParts;
        if (parts.length) jobs.push({ file: special ? specialFile : allFile, parts, special });
    }
    const results = await mapLimited(jobs, (j) => fennecIds(vocab, j.file, j.special));
    jobs.forEach(({ parts, special }, k) => {
        const text = parts.map((p) => p.text).join("");
        const label = `${path.basename(vocab)}${special ? " --special" : ""}`;
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
        // which file the difference falls in: bytes decoded before it, against file sizes
        let at = Buffer.byteLength(model.detokenize(want.slice(0, i), true), "utf8"), where = "?";
        for (const p of parts) {
            if (at < p.bytes) { where = `${p.name} byte ${at}`; break; }
            at -= p.bytes;
        }
        console.log(`FAIL ${label} (${where}): first difference at token ${i} of ${want.length} ` +
            `(fennec has ${got.length}): llama.cpp ${piece(want[i])}, fennec ${piece(got[i])}; ` +
            `after "${before}"`);
    });
    await model.dispose();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
