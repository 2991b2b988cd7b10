// serve-load.mjs - load generator for `fennec serve` (see serve-load.sh): N clients each
// send streaming chat completions back to back for DURATION seconds; every token is timed
// (logprobs on, so each token shows up in the stream even when its text is held back).
// Prints one table row per N: aggregate generated tokens/s, p50/p99 time to first token and
// inter-token latency. Loopback only; every loop is bounded by the deadline.
// Usage: node serve-load.mjs BASE_URL MODEL DURATION_S MAX_TOKENS N [N...]

const [base, model, durationS, maxTokens, ...ns] = process.argv.slice(2);
const DURATION = Number(durationS) * 1000;
const MAXTOK = Number(maxTokens);
if (!/^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(base)) throw new Error('loopback only');

const system = 'You are a coding assistant. Answer with code and a short explanation.';
const tasks = ['Write a C function that reverses a linked list.', 'Explain what a mutex is.',
               'Refactor this loop into a map call: for (i = 0; i < n; i++) out[i] = f(in[i]);',
               'Write a unit test for a string trim function.', 'What does `git rebase -i` do?',
               'Implement binary search in Python.', 'Why does this segfault: char *s; strcpy(s, "x");',
               'Write a Makefile for a two-file C project.'];

function pct(sorted, p) {
    if (!sorted.length) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.floor(p / 100 * sorted.length))];
}

async function one(i, seq, stats) {
    const body = JSON.stringify({ model, stream: true, max_tokens: MAXTOK, temperature: 0.8, seed: seq, ignore_eos: true, logprobs: true,
                                  messages: [{ role: 'system', content: system }, { role: 'user', content: `${tasks[(i + seq) % tasks.length]} (#${i}.${seq})` }] });
    const t0 = performance.now();
    const res = await fetch(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    if (res.status !== 200) { stats.errors++; await res.text(); return; }
    let buf = '', last = 0, first = true;
    const dec = new TextDecoder();
    for await (const chunk of res.body) {
        const now = performance.now();
        buf += dec.decode(chunk, { stream: true });
        let k;
        while ((k = buf.indexOf('\n\n')) >= 0) {
            const ev = buf.slice(0, k);
            buf = buf.slice(k + 2);
            if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
            const j = JSON.parse(ev.slice(6));
            const lp = j.choices && j.choices[0] && j.choices[0].logprobs;
            const n = lp ? lp.content.length : 0;
            if (!n) continue;
            if (first) { stats.ttft.push(now - t0); first = false; n > 1 && stats.itl.push(...Array(n - 1).fill(0)); }
            else { const gap = (now - last) / n; for (let q = 0; q < n; q++) stats.itl.push(gap); }
            last = now;
            if (now - stats.start <= DURATION) stats.tokens += n;
        }
    }
    stats.requests++;
}

async function run(n) {
    const stats = { start: performance.now(), tokens: 0, requests: 0, errors: 0, ttft: [], itl: [] };
    const deadline = stats.start + DURATION;
    await Promise.all(Array.from({ length: n }, async (_, i) => {
        for (let seq = 0; performance.now() < deadline; seq++) await one(i, seq, stats);
    }));
    const secs = Math.min(performance.now() - stats.start, DURATION) / 1000;
    stats.ttft.sort((a, b) => a - b);
    stats.itl.sort((a, b) => a - b);
    return { n, requests: stats.requests, errors: stats.errors, tokens: stats.tokens, tps: stats.tokens / secs,
             ttft50: pct(stats.ttft, 50), ttft99: pct(stats.ttft, 99), itl50: pct(stats.itl, 50), itl99: pct(stats.itl, 99) };
}

const rows = [];
await one(0, 0, { start: performance.now(), tokens: 0, requests: 0, errors: 0, ttft: [], itl: [] }); // warm-up, not reported
for (const n of ns.map(Number)) rows.push(await run(n));
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '-');
console.log(`\n| clients | requests | tokens | gen tok/s (all clients) | TTFT p50 ms | TTFT p99 ms | ITL p50 ms | ITL p99 ms | errors |`);
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows)
    console.log(`| ${r.n} | ${r.requests} | ${r.tokens} | ${f(r.tps)} | ${f(r.ttft50, 0)} | ${f(r.ttft99, 0)} | ${f(r.itl50)} | ${f(r.itl99)} | ${r.errors} |`);
