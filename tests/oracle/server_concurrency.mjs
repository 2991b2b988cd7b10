// server_concurrency.mjs - continuous batching seen from clients: 8 concurrent greedy
// streams (more than the 4 slots, so some wait in the queue) give exactly the texts the same
// requests give one at a time; a client that disconnects (streaming or not) frees its slot
// and a queued request then runs; a full queue answers 429.
// Usage: node server_concurrency.mjs MODEL TMPDIR
import { ok, finish, startServer, sanitized, readSSE, waitFor, metric, sleep } from './server_harness.mjs';

const [model, tmp] = process.argv.slice(2);
const K = sanitized ? 16 : 48;
const chat = '/v1/chat/completions';

const prompts = [
    'Write a function that reverses a string.',
    'hi',
    'Explain continuous batching in one paragraph, then give an example with three requests of different lengths.',
    'What is 2 + 2?',
    'List five sorting algorithms.',
    'Translate "good morning" to French, German and Spanish, and explain the differences in formality between them.',
    'def fib(n):',
    'Why is the sky blue?',
];

function body(i, extra = {}) {
    return JSON.stringify({ messages: [{ role: 'system', content: `You are assistant number ${i}.` }, { role: 'user', content: prompts[i] }],
                            max_tokens: K, temperature: 0, stream: true, ...extra });
}

async function stream(srv, b, signal, onFirst) {
    const res = await fetch(srv.url(chat), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: b, signal });
    if (res.status !== 200) return { status: res.status, body: await res.text() };
    const out = await readSSE(res, onFirst);
    const text = out.events.filter((e) => e.choices.length).map((e) => e.choices[0].delta.content || '').join('');
    const fin = out.events.map((e) => e.choices.length && e.choices[0].finish_reason).filter(Boolean);
    return { status: 200, text, finish: fin[0], done: out.done };
}

async function main() {
    let srv = await startServer({ model, log: `${tmp}/server-conc.log`, pidFile: `${tmp}/server.pid`,
                                  args: ['--parallel', '4', '--queue', '16', '--ctx', '4096'] });
    try {
        // one at a time
        const alone = [];
        for (let i = 0; i < prompts.length; i++) alone.push(await stream(srv, body(i)));
        ok(alone.every((r) => r.status === 200 && r.done && r.text.length > 0), 'sequential requests complete');
        // all at once
        let maxQueued = 0;
        const poll = setInterval(async () => { try { maxQueued = Math.max(maxQueued, await metric(srv, 'fennec_queue_depth')); } catch { /* ignore */ } }, 20);
        const together = await Promise.all(prompts.map((_, i) => stream(srv, body(i))));
        clearInterval(poll);
        for (let i = 0; i < prompts.length; i++) {
            ok(together[i].status === 200 && together[i].done && together[i].text === alone[i].text && together[i].finish === alone[i].finish,
               `concurrent stream ${i} equals its sequential run`, { got: together[i].text && together[i].text.slice(0, 60), want: alone[i].text.slice(0, 60) });
        }
        ok(true, `queue depth seen during the concurrent run: ${maxQueued}`);

        // disconnects free their slots: 4 endless streams, a 5th queued behind them
        const long = (i) => body(i, { max_tokens: 4000, ignore_eos: true });
        const aborts = [0, 1, 2, 3].map(() => new AbortController());
        const started = [];
        const longs = aborts.map((a, i) => stream(srv, long(i), a.signal, () => { started[i] = true; }).catch((e) => ({ aborted: e.name })));
        await waitFor(() => started.filter(Boolean).length === 4, 60000);
        ok(await waitFor(async () => (await metric(srv, 'fennec_active_sequences')) === 4, 30000), 'four long streams hold the four slots');
        const queued = stream(srv, body(5));
        const inQueue = await waitFor(async () => (await metric(srv, 'fennec_queue_depth')) === 1, 10000);
        ok(inQueue, 'a fifth request waits in the queue');
        aborts[0].abort();
        const q = await queued;
        ok(q.status === 200 && q.done && q.text === alone[5].text, 'after one client disconnects the queued request runs to the same answer', q);
        for (const a of aborts.slice(1)) a.abort();
        await Promise.all(longs);
        const idle = await waitFor(async () => (await metric(srv, 'fennec_active_sequences')) === 0 && (await metric(srv, 'fennec_requests_inflight')) === 0, 10000);
        ok(idle, 'all slots free after the clients disconnect');

        // a non-streaming client that gives up frees its slot too
        const ac = new AbortController();
        const p = fetch(srv.url(chat), { method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'x' }], max_tokens: 4000, ignore_eos: true }), signal: ac.signal })
            .catch((e) => e.name);
        await waitFor(async () => (await metric(srv, 'fennec_active_sequences')) === 1, 10000);
        await sleep(200);
        ac.abort();
        await p;
        ok(await waitFor(async () => (await metric(srv, 'fennec_active_sequences')) === 0, 10000), 'a non-streaming client that disconnects frees its slot');
        const st = await srv.stop();
        ok(st.code === 0 && !st.sanitizer, 'server exits cleanly', st);

        // a full queue answers 429
        srv = await startServer({ model, log: `${tmp}/server-429.log`, pidFile: `${tmp}/server.pid`, args: ['--parallel', '1', '--queue', '1', '--ctx', '4096'] });
        const a1 = new AbortController();
        let firstA = false;
        const pa = stream(srv, body(0, { max_tokens: 4000, ignore_eos: true }), a1.signal, () => { firstA = true; }).catch((e) => e.name);
        await waitFor(() => firstA, 60000);
        const pb = stream(srv, body(1));
        await waitFor(async () => (await metric(srv, 'fennec_queue_depth')) === 1, 10000);
        const c = await fetch(srv.url(chat), { method: 'POST', body: body(2) });
        const cj = await c.json();
        ok(c.status === 429 && cj.error && cj.error.code === 'queue_full' && c.headers.get('retry-after'), '429 when the queue is full', { status: c.status, cj });
        a1.abort();
        const b = await pb;
        ok(b.status === 200 && b.text === alone[1].text, 'the queued request runs once the slot frees');
        await pa;
    } finally {
        const st = await srv.stop();
        ok(st.code === 0 && !st.sanitizer, 'server exits cleanly on SIGTERM', st);
    }
    process.exitCode = finish();
}

main().catch((e) => { console.log(`FAIL - unexpected: ${e.stack || e}`); process.exitCode = 1; });
