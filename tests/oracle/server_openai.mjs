// server_openai.mjs - fennec serve with the official OpenAI SDK as the client: models,
// chat completions (plain, streaming, stream helper), tools and a tool-call round trip,
// usage chunk, logprobs, text completions, stop strings, seeds, greedy determinism,
// SDK error classes, and the SDK reading recorded tool-call streams (from
// test_server_api's dump). Usage: node server_openai.mjs MODEL TMPDIR [SSE_DUMP_DIR]
import fs from 'node:fs';
import http from 'node:http';
import OpenAI from 'openai';
import { ok, finish, startServer, sanitized } from './server_harness.mjs';

const [model, tmp, dumpDir] = process.argv.slice(2);
const NAME = 'fennec-test';
const N = sanitized ? 8 : 24; // tokens per answer: keep the sanitizer build quick

function tools(n) {
    const t = [];
    for (let i = 0; i < n; i++) {
        // small schemas: the synthetic vocabulary spends a token on every 1-2 bytes
        t.push({ type: 'function', function: { name: `tool_${i}`, parameters: { type: 'object', properties: { p: { type: 'string' } } } } });
    }
    return t;
}

async function main() {
    const srv = await startServer({ model, log: `${tmp}/server-openai.log`, pidFile: `${tmp}/server.pid`,
                                    args: ['--parallel', '2', '--model-name', NAME, '--ctx', '8192', '--max-tokens', '48'] });
    const client = new OpenAI({ baseURL: srv.url('/v1'), apiKey: 'sk-anything', maxRetries: 0, timeout: 300000 });
    try {
        // models
        const models = await client.models.list();
        ok(models.data.length === 1 && models.data[0].id === NAME && models.data[0].object === 'model', 'models.list names the served model', models.data);
        const one = await client.models.retrieve(NAME);
        ok(one.id === NAME, 'models.retrieve');

        // non-streaming chat
        const user = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Write a haiku about C.' }];
        const r1 = await client.chat.completions.create({ model: NAME, messages: user, max_tokens: N, temperature: 0 });
        const c1 = r1.choices[0];
        ok(r1.object === 'chat.completion' && /^chatcmpl-/.test(r1.id) && typeof r1.created === 'number', 'chat.completion envelope', r1);
        ok(typeof r1.system_fingerprint === 'string' && r1.system_fingerprint.length > 0, 'system_fingerprint is a string');
        ok(c1.index === 0 && c1.message.role === 'assistant' && typeof c1.message.content === 'string', 'assistant message with string content');
        ok(['stop', 'length'].includes(c1.finish_reason), 'finish_reason stop|length', c1.finish_reason);
        const u1 = r1.usage;
        ok(u1 && u1.prompt_tokens > 0 && u1.completion_tokens > 0 && u1.completion_tokens <= N &&
           u1.total_tokens === u1.prompt_tokens + u1.completion_tokens, 'usage counts add up', u1);
        ok(u1.prompt_tokens_details && Number.isInteger(u1.prompt_tokens_details.cached_tokens) &&
           u1.completion_tokens_details && Number.isInteger(u1.completion_tokens_details.reasoning_tokens), 'usage details present', u1);
        ok(c1.finish_reason === 'stop' || u1.completion_tokens === N, 'length means max_tokens were generated');

        // greedy is deterministic, and the repeat reuses the cached prompt
        const r1b = await client.chat.completions.create({ model: NAME, messages: user, max_tokens: N, temperature: 0 });
        ok(r1b.choices[0].message.content === c1.message.content, 'greedy answer repeats exactly');
        ok(r1b.usage.prompt_tokens_details.cached_tokens > 0, 'second identical prompt reports cached tokens', r1b.usage);

        // streaming with usage chunk
        const stream = await client.chat.completions.create({ model: NAME, messages: user, max_tokens: N, temperature: 0,
                                                               stream: true, stream_options: { include_usage: true } });
        let text = '', first = null, finishReason = null, usage = null, afterUsage = 0, badObject = 0;
        for await (const ch of stream) {
            if (usage) afterUsage++;
            if (ch.usage) usage = ch.usage;
            if (ch.object !== 'chat.completion.chunk' || !/^chatcmpl-/.test(ch.id) || typeof ch.system_fingerprint !== 'string') badObject++;
            if (!ch.choices.length) continue;
            const d = ch.choices[0].delta;
            if (first === null) first = d;
            if (d.content) text += d.content;
            if (ch.choices[0].finish_reason) finishReason = ch.choices[0].finish_reason;
        }
        ok(badObject === 0, 'every chunk is a chat.completion.chunk with id and system_fingerprint');
        ok(first && first.role === 'assistant', 'first delta carries the role', first);
        ok(text === c1.message.content, 'streamed text equals the non-streamed greedy answer', { text, want: c1.message.content });
        ok(finishReason === c1.finish_reason, 'stream finish_reason', finishReason);
        ok(usage && usage.completion_tokens === u1.completion_tokens && afterUsage === 0, 'usage chunk comes last', usage);

        // stream helper of the SDK
        const helper = client.chat.completions.stream({ model: NAME, messages: user, max_tokens: N, temperature: 0 });
        const final = await helper.finalChatCompletion();
        ok(final.choices[0].message.content === c1.message.content, 'SDK stream helper assembles the same answer');

        // a dozen tools, tool_choice auto; then the tool-call round trip
        const t12 = tools(12);
        // the round trip below starts with the same two messages, so its prompt reuses this one's cache
        const opening = [
            { role: 'system', content: [{ type: 'text', text: 'You are a coding agent.' }] },
            { role: 'user', content: [{ type: 'text', text: 'Read src/main.c' }, { type: 'text', text: 'and summarize it.' }] },
        ];
        const r2 = await client.chat.completions.create({ model: NAME, messages: opening, tools: t12, tool_choice: 'auto', max_tokens: N, temperature: 0 });
        ok(r2.choices[0].message.role === 'assistant', 'request with 12 tools answered');
        const call = (r2.choices[0].message.tool_calls || [])[0] ||
                     { id: 'call_abc123', type: 'function', function: { name: 'tool_3', arguments: '{"p":"src/main.c"}' } };
        const round = [
            ...opening,
            { role: 'assistant', content: null, tool_calls: [call] },
            { role: 'tool', tool_call_id: call.id, content: [{ type: 'text', text: 'int main(void) { return 0; }' }] },
            { role: 'assistant', content: '', tool_calls: [{ id: 'call_2', type: 'function', function: { name: 'tool_0', arguments: '{}' } }] },
            { role: 'tool', tool_call_id: 'call_2', content: 'ok' },
        ];
        const r3 = await client.chat.completions.create({ model: NAME, messages: round, tools: t12, max_tokens: N, temperature: 0 });
        ok(r3.choices[0].message.role === 'assistant' && r3.usage.prompt_tokens > r2.usage.prompt_tokens, 'tool-call round trip accepted', r3.usage);
        ok(r3.usage.prompt_tokens_details.cached_tokens > r2.usage.prompt_tokens / 2, 'the next turn reuses the cached conversation prefix', r3.usage);
        const s3 = await client.chat.completions.create({ model: NAME, messages: round, tools: t12, max_tokens: 32000, temperature: 0,
                                                          stream: true, stream_options: { include_usage: true }, parallel_tool_calls: true });
        let u3 = null;
        for await (const ch of s3) if (ch.usage) u3 = ch.usage;
        ok(u3 && u3.completion_tokens >= 1 && u3.completion_tokens <= 48, 'streamed round trip with max_tokens 32000 completes (server cap 48)', u3);
        const none = await client.chat.completions.create({ model: NAME, messages: round, tools: t12, max_tokens: 4, tool_choice: 'none' });
        ok(!none.choices[0].message.tool_calls, 'tool_choice none: no tool calls');

        const named = await client.chat.completions.create({ model: NAME, messages: round, tools: t12, max_tokens: 4,
                                                             tool_choice: { type: 'function', function: { name: 'tool_5' } } });
        ok(named.choices.length === 1, 'named tool_choice accepted');
        // logprobs
        const r4 = await client.chat.completions.create({ model: NAME, messages: user, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 3 });
        const lp = r4.choices[0].logprobs && r4.choices[0].logprobs.content;
        ok(Array.isArray(lp) && lp.length === r4.usage.completion_tokens, 'logprobs: one entry per token', r4.choices[0].logprobs);
        ok(lp && lp.every((e) => typeof e.token === 'string' && e.logprob <= 0 && Array.isArray(e.bytes) && e.top_logprobs.length === 3 &&
                                 e.top_logprobs[0].logprob >= e.top_logprobs[2].logprob),
           'logprobs entries have token, logprob <= 0, bytes, sorted top_logprobs');
        ok(lp && lp.every((e) => Math.abs(e.logprob - e.top_logprobs[0].logprob) < 1e-4 || e.logprob < e.top_logprobs[0].logprob),
           'greedy picks the top alternative');
        const s4 = await client.chat.completions.create({ model: NAME, messages: user, max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 2, stream: true });
        let nlp = 0;
        for await (const ch of s4) if (ch.choices[0] && ch.choices[0].logprobs) nlp += ch.choices[0].logprobs.content.length;
        ok(nlp === r4.usage.completion_tokens, 'streamed logprobs cover every token', nlp);

        // stop strings: cut the greedy answer at a piece of itself
        const full = c1.message.content;
        const at = Math.floor(full.length / 2);
        const stopStr = full.slice(at, at + 3);
        if (stopStr.length === 3 && full.indexOf(stopStr) === at) {
            const r5 = await client.chat.completions.create({ model: NAME, messages: user, max_tokens: N, temperature: 0, stop: [stopStr, 'NEVER'] });
            ok(r5.choices[0].message.content === full.slice(0, at) && r5.choices[0].finish_reason === 'stop',
               'stop string ends the answer before it', { got: r5.choices[0].message.content, want: full.slice(0, at) });
        } else ok(true, 'stop string (skipped: no unique piece)');

        // seeded sampling is reproducible
        const seeded = { model: NAME, messages: user, max_tokens: N, temperature: 1, top_p: 0.9, seed: 1234 };
        const a = await client.chat.completions.create(seeded), b = await client.chat.completions.create(seeded);
        ok(a.choices[0].message.content === b.choices[0].message.content, 'same seed, same sample');

        // text completions
        const tc = await client.completions.create({ model: NAME, prompt: 'int main(', max_tokens: 5, temperature: 0, logprobs: 2 });
        ok(tc.object === 'text_completion' && /^cmpl-/.test(tc.id) && typeof tc.choices[0].text === 'string' && tc.usage.completion_tokens <= 5,
           'completions.create', tc);
        ok(tc.choices[0].logprobs && tc.choices[0].logprobs.tokens.length === tc.usage.completion_tokens, 'legacy logprobs shape', tc.choices[0].logprobs);
        const ts = await client.completions.create({ model: NAME, prompt: 'int main(', max_tokens: 5, temperature: 0, stream: true,
                                                     stream_options: { include_usage: true } });
        let ttext = '', tus = null;
        for await (const ch of ts) { if (ch.choices.length) ttext += ch.choices[0].text; if (ch.usage) tus = ch.usage; }
        ok(ttext === tc.choices[0].text && tus && tus.completion_tokens === tc.usage.completion_tokens, 'streamed completion matches', { ttext });
        const tids = await client.completions.create({ model: NAME, prompt: [10, 20, 30], max_tokens: 3 });
        ok(tids.usage.prompt_tokens === 3, 'token-id prompt', tids.usage);

        // SDK error classes
        try {
            await client.chat.completions.create({ model: NAME, messages: user, temperature: 'warm' });
            ok(false, 'wrong type rejected');
        } catch (e) {
            ok(e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'temperature' && e.code === 'invalid_type',
               'BadRequestError names the field', { status: e.status, param: e.param, code: e.code });
        }
        try {
            await client.chat.completions.create({ model: 'gpt-9', messages: user });
            ok(false, 'unknown model rejected');
        } catch (e) {
            ok(e instanceof OpenAI.NotFoundError && e.code === 'model_not_found', 'NotFoundError for an unknown model', e.message);
        }
        try {
            const long = 'word '.repeat(12000);
            await client.chat.completions.create({ model: NAME, messages: [{ role: 'user', content: long }] });
            ok(false, 'prompt over the context rejected');
        } catch (e) {
            ok(e.status === 400 && e.code === 'context_length_exceeded', 'context_length_exceeded', e.message);
        }
        try {
            await client.chat.completions.create({ model: NAME, messages: user, max_tokens: 10000000 });
            ok(false, 'max_tokens above the trained context rejected');
        } catch (e) {
            ok(e.status === 400 && e.param === 'max_tokens', 'max_tokens above the trained context is a 400', e.message);
        }

        // the SDK reads recorded tool-call streams produced by the server's code
        if (dumpDir && fs.existsSync(dumpDir)) await replayDumps(dumpDir);
        else ok(true, 'SSE replay (skipped: no dump)');
    } finally {
        const st = await srv.stop();
        ok(st.code === 0 && !st.sanitizer, 'server exits cleanly on SIGTERM', st);
    }
    process.exitCode = finish();
}

// Serves each dumped .sse (and .json) to the SDK and compares what it assembles.
async function replayDumps(dir) {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.sse')).sort();
    let current = null;
    const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (d) => { body += d; });
        req.on('end', () => {
            const stream = JSON.parse(body).stream;
            res.writeHead(200, { 'Content-Type': stream ? 'text/event-stream' : 'application/json' });
            res.end(fs.readFileSync(`${dir}/${current}${stream ? '.sse' : '.json'}`));
        });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const client = new OpenAI({ baseURL: `http://127.0.0.1:${server.address().port}/v1`, apiKey: 'x', maxRetries: 0 });
    for (const f of files) {
        current = f.replace(/\.sse$/, '');
        const whole = JSON.parse(fs.readFileSync(`${dir}/${current}.json`, 'utf8'));
        const want = whole.choices[0].message.tool_calls.map((c) => ({ name: c.function.name, args: JSON.parse(c.function.arguments) }));
        const viaHelper = await client.chat.completions.stream({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).finalChatCompletion();
        const got = (viaHelper.choices[0].message.tool_calls || []).map((c) => ({ name: c.function.name, args: JSON.parse(c.function.arguments), id: c.id }));
        ok(JSON.stringify(got.map(({ name, args }) => ({ name, args }))) === JSON.stringify(want) && got.every((c) => /^call_/.test(c.id)) &&
           viaHelper.choices[0].finish_reason === 'tool_calls', `SDK stream helper assembles the tool calls of ${current}`, got);
        const plain = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
        ok(plain.choices[0].message.tool_calls.length === want.length, `SDK reads the non-streamed tool calls of ${current}`);
    }
    server.close();
}

main().catch((e) => { console.log(`FAIL - unexpected: ${e.stack || e}`); process.exitCode = 1; });
