// compare_probs.mjs A.json B.json - compares two {"probs":[[…],…]} files position by
// position: prints {"positions", "mean_kl", "max_kl", "top1_agreement"} where KL is
// KL(A || B) in nats. Used to compare llama.cpp runs of two models, or Fennec vs llama.cpp.
import {readFileSync} from "node:fs";

const [fa, fb] = process.argv.slice(2);
const a = JSON.parse(readFileSync(fa, "utf8")).probs;
const b = JSON.parse(readFileSync(fb, "utf8")).probs;
if (a.length !== b.length) {
    console.error(`position counts differ: ${a.length} vs ${b.length}`);
    process.exit(1);
}
let sumKl = 0, maxKl = 0, agree = 0, n = 0;
const argmax = (p) => p.reduce((best, v, i) => (v > p[best] ? i : best), 0);
for (let i = 0; i < a.length; i++) {
    const p = a[i], q = b[i];
    if (!p || !q) continue;
    let kl = 0;
    const len = Math.max(p.length, q.length);
    for (let j = 0; j < len; j++) {
        const pj = p[j] ?? 0, qj = q[j] ?? 0;
        if (pj > 0) kl += pj * Math.log(pj / Math.max(qj, 1e-30));
    }
    sumKl += kl;
    maxKl = Math.max(maxKl, kl);
    if (argmax(p) === argmax(q)) agree++;
    n++;
}
console.log(JSON.stringify({positions: n, mean_kl: n ? sumKl / n : 0, max_kl: maxKl, top1_agreement: n ? agree / n : 0}));
