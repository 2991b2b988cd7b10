// server_battery.mjs - hostile and broken input while a stream is running: every bad
// request gets the right 4xx in OpenAI's error shape (or, for broken HTTP, a clean close),
// slow and silent clients are dropped by the idle timeout, a client that never reads its
// stream stalls nobody, and the running stream completes with exactly the greedy answer
// it gives when it runs alone. Usage: node server_battery.mjs MODEL TMPDIR
import net from 'node:net';
import { ok, finish, startServer, sanitized, postRaw, rawRequest, readSSE, sleep, waitFor, metric } from './server_harness.mjs';

const [model, tmp] = process.argv.slice(2);
const M = sanitized ? 64 : 256; // tokens of the running stream
const NAME = 'battery';

const U = '"messages":[{"role":"user","content":"x"}]';
const chat = '/v1/chat/completions';

// [description, path, body (string|Buffer), expected status, expected param or null, expected code or null]
function cases() {
    const big = 'a'.repeat(900 * 1024);
    const nested = '['.repeat(100000);
    return [
        ['truncated JSON', chat, '{"messages":[{"role":"user","content":"hi"}', 400, null, 'invalid_json'],
        ['empty body', chat, '', 400, null, 'invalid_json'],
        ['not JSON', chat, 'hello there', 400, null, 'invalid_json'],
        ['JSON array body', chat, '[1,2,3]', 400, null, 'invalid_json'],
        ['deeply nested JSON', chat, nested, 400, null, 'invalid_json'],
        ['NUL byte in the body', chat, Buffer.from(`{${U},"x":"a\u0000b"}`.replace('\u0000', '\\u0000')), 400, null, 'invalid_json'],
        ['raw NUL byte', chat, Buffer.concat([Buffer.from(`{${U},"x":"a`), Buffer.from([0]), Buffer.from('"}')]), 400, null, 'invalid_json'],
        ['invalid UTF-8 in a string', chat, Buffer.concat([Buffer.from('{"messages":[{"role":"user","content":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}]}')]), 400, null, 'invalid_json'],
        ['overlong UTF-8', chat, Buffer.concat([Buffer.from('{"messages":[{"role":"user","content":"'), Buffer.from([0xc0, 0xaf]), Buffer.from('"}]}')]), 400, null, 'invalid_json'],
        ['lone surrogate escape is fine or rejected cleanly', chat, `{"messages":[{"role":"user","content":"\\ud800"}],"max_tokens":1}`, [200, 400], null, null],
        ['huge integer', chat, `{${U},"max_tokens":99999999999999999999999999999999}`, 400, null, 'invalid_json'],
        ['huge real', chat, `{${U},"max_tokens":1e400}`, 400, null, 'invalid_json'],
        ['max_tokens 1e300', chat, `{${U},"max_tokens":1e300}`, 400, 'max_tokens', 'invalid_value'],
        ['negative max_tokens', chat, `{${U},"max_tokens":-1}`, 400, 'max_tokens', 'invalid_value'],
        ['max_tokens above the trained context', chat, `{${U},"max_tokens":10000000}`, 400, 'max_tokens', 'invalid_value'],
        ['temperature as a string', chat, `{${U},"temperature":"0.5"}`, 400, 'temperature', 'invalid_type'],
        ['top_p out of range', chat, `{${U},"top_p":7}`, 400, 'top_p', 'invalid_value'],
        ['stream as a string', chat, `{${U},"stream":"true"}`, 400, 'stream', 'invalid_type'],
        ['stop as a number', chat, `{${U},"stop":42}`, 400, 'stop', 'invalid_type'],
        ['seed as a float', chat, `{${U},"seed":0.5}`, 400, 'seed', 'invalid_type'],
        ['n = 3', chat, `{${U},"n":3}`, 400, 'n', 'invalid_value'],
        ['top_logprobs 99', chat, `{${U},"logprobs":true,"top_logprobs":99}`, 400, 'top_logprobs', 'invalid_value'],
        ['tools not an array', chat, `{${U},"tools":"all"}`, 400, 'tools', 'invalid_type'],
        ['tool without a name', chat, `{${U},"tools":[{"type":"function","function":{}}]}`, 400, 'tools[0].function.name', 'missing_required_parameter'],
        ['json_schema response format', chat, `{${U},"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":{}}}}`, 400, 'response_format.type', 'unsupported_value'],
        ['messages missing', chat, '{"model":"battery"}', 400, 'messages', 'missing_required_parameter'],
        ['empty messages', chat, '{"messages":[]}', 400, 'messages', 'invalid_value'],
        ['empty message object', chat, '{"messages":[{}]}', 400, 'messages[0].role', 'missing_required_parameter'],
        ['unknown role', chat, '{"messages":[{"role":"god","content":"x"}]}', 400, 'messages[0].role', 'invalid_value'],
        ['role as an array', chat, '{"messages":[{"role":["user"],"content":"x"}]}', 400, 'messages[0].role', 'invalid_type'],
        ['content as an object', chat, '{"messages":[{"role":"user","content":{"text":"x"}}]}', 400, 'messages[0].content', 'invalid_type'],
        ['image part', chat, '{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:,"}}]}]}', 400, 'messages[0].content[0].type', 'unsupported_content'],
        ['tool result without a matching call', chat,
         '{"messages":[{"role":"user","content":"x"},{"role":"tool","tool_call_id":"call_nope","content":"42"}]}', 400, 'messages[1].tool_call_id', 'invalid_value'],
        ['tool result answering another id', chat,
         '{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"call_a","type":"function","function":{"name":"f","arguments":"{}"}}]},' +
         '{"role":"tool","tool_call_id":"call_b","content":"42"}]}', 400, 'messages[1].tool_call_id', 'invalid_value'],
        ['tool call without function', chat, '{"messages":[{"role":"assistant","tool_calls":[{"id":"a","type":"function"}]}]}', 400, 'messages[0].tool_calls[0].function', 'missing_required_parameter'],
        ['unknown model', chat, `{"model":"gpt-5",${U}}`, 404, 'model', 'model_not_found'],
        ['prompt over the context (900 KB, under the body limit)', chat, `{"messages":[{"role":"user","content":"${big}"}]}`, 400, 'messages', 'context_length_exceeded'],
        ['completion: token id outside the vocabulary', '/v1/completions', '{"prompt":[1,2,999999999]}', 400, 'prompt[2]', 'invalid_value'],
        ['completion: negative token id', '/v1/completions', '{"prompt":[1,-2]}', 400, 'prompt[1]', 'invalid_value'],
        ['completion: prompt as an object', '/v1/completions', '{"prompt":{}}', 400, 'prompt', 'invalid_type'],
        ['completion: echo', '/v1/completions', '{"prompt":"x","echo":true}', 400, 'echo', 'unsupported_parameter'],
        ['unknown route', '/v1/embeddings', '{}', 404, null, 'not_found'],
        ['unknown route (root)', '/', '{}', 404, null, 'not_found'],
    ];
}

function checkError(res, status, param, code) {
    const want = Array.isArray(status) ? status : [status];
    if (!want.includes(res.status)) return `status ${res.status}, body ${res.body.slice(0, 200)}`;
    if (res.status === 200) return null;
    let j;
    try { j = JSON.parse(res.body); } catch { return `body is not JSON: ${res.body.slice(0, 200)}`; }
    const e = j.error;
    if (!e || typeof e.message !== 'string' || typeof e.type !== 'string' || !('param' in e) || !('code' in e)) return `not OpenAI's error shape: ${res.body.slice(0, 200)}`;
    if (param !== null && e.param !== param) return `param ${e.param}, want ${param}`;
    if (code !== null && e.code !== code) return `code ${e.code}, want ${code}`;
    if (!/content-type: application\/json/i.test(res.headers)) return 'not application/json';
    return null;
}

async function main() {
    const srv = await startServer({ model, log: `${tmp}/server-battery.log`, pidFile: `${tmp}/server.pid`,
                                    args: ['--parallel', '2', '--ctx', '4096', '--model-name', NAME, '--max-body', '1048576', '--timeout', '2', '--queue', '4'] });
    try {
        const streamReq = { model: NAME, messages: [{ role: 'user', content: 'Tell me a long story about a fennec.' }],
                            max_tokens: M, temperature: 0, ignore_eos: true, stream: true, stream_options: { include_usage: true } };
        // the stream that must keep running
        let firstChunk, running = true, answeredWhileRunning = 0;
        const gotFirst = new Promise((r) => { firstChunk = r; });
        const streamDone = (async () => {
            const res = await fetch(srv.url(chat), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(streamReq) });
            const out = await readSSE(res, () => firstChunk());
            running = false;
            return out;
        })();
        await gotFirst;

        // slow and silent clients, held open during the battery
        const held = [];
        const hold = (bytes) => {
            const s = net.connect(srv.port, '127.0.0.1');
            const h = { closed: false, sock: s };
            s.on('close', () => { h.closed = true; });
            s.on('error', () => { h.closed = true; });
            s.write(bytes);
            held.push(h);
            return h;
        };
        hold('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Ty');
        hold('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"messages":');
        hold('GET /health HTTP/1.1\r\n');
        const heldAt = Date.now();
        // a client that asks for a long stream and never reads it
        const lazy = net.connect(srv.port, '127.0.0.1');
        lazy.on('error', () => {});
        lazy.pause();
        const lazyBody = JSON.stringify({ model: NAME, messages: [{ role: 'user', content: 'Go on and on.' }], max_tokens: 512, ignore_eos: true, stream: true });
        lazy.write(`POST ${chat} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(lazyBody)}\r\n\r\n${lazyBody}`);

        // the battery
        for (const [desc, path, body, status, param, code] of cases()) {
            const res = await postRaw(srv.port, path, body);
            if (running) answeredWhileRunning++;
            const err = checkError(res, status, param, code);
            ok(!err, desc, err || undefined);
        }
        // 10 MB bodies (limit 1 MiB): answered from the headers, the body is never read. A
        // client that waits for "100 Continue" (as curl does) gets the 413; one that sends
        // the body regardless may see the connection reset before it reads the answer.
        const t413 = Date.now();
        const expect = await rawRequest(srv.port, `POST ${chat} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
                                        `Content-Length: ${10 * 1024 * 1024}\r\nExpect: 100-continue\r\n\r\n`);
        if (running) answeredWhileRunning++;
        ok(!checkError(expect, 413, null, 'request_too_large') && !/100 Continue/.test(expect.headers) && Date.now() - t413 < 5000,
           '10 MB body announced with Expect: 413 without 100 Continue', expect.status);
        const t2 = Date.now();
        const tooBig = await postRaw(srv.port, chat, Buffer.alloc(10 * 1024 * 1024, 0x61));
        ok((tooBig.status === 413 || tooBig.closed) && Date.now() - t2 < 5000, '10 MB body sent at once: 413 or reset, at once', tooBig.status);
        const chunked = await rawRequest(srv.port, Buffer.concat([
            Buffer.from(`POST ${chat} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`),
            ...Array.from({ length: 20 }, () => Buffer.from(`80000\r\n${'b'.repeat(0x80000)}\r\n`)), Buffer.from('0\r\n\r\n')]), { timeoutMs: 10000 });
        ok(chunked.closed && (chunked.status === 0 || chunked.status === 413), '10 MB chunked body: connection closed', chunked.status);
        const getPost = await rawRequest(srv.port, `GET ${chat} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        ok(!checkError(getPost, 405, null, 'method_not_allowed') && /allow: POST/i.test(getPost.headers), 'GET on a POST route: 405 with Allow');
        const postHealth = await postRaw(srv.port, '/health', '{}');
        ok(!checkError(postHealth, 405, null, 'method_not_allowed'), 'POST /health: 405');
        const hugeHeader = await rawRequest(srv.port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Junk: ${'j'.repeat(200000)}\r\n\r\n`);
        ok(hugeHeader.closed || (hugeHeader.status >= 400 && hugeHeader.status < 500), 'a 200 KB header is refused', hugeHeader.status);
        const garbage = await rawRequest(srv.port, 'HELLO WORLD\r\n\r\n', { endAfterWrite: true });
        ok(garbage.closed || garbage.status === 400, 'a garbage request line is refused', garbage.status);
        const badLength = await rawRequest(srv.port, `POST ${chat} HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n{}`);
        ok(badLength.closed || (badLength.status >= 400 && badLength.status < 500), 'a negative Content-Length is refused', badLength.status);
        const half = await rawRequest(srv.port, `POST ${chat} HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{"mess`, { endAfterWrite: true });
        ok(half.status === 0 || half.status === 400, 'a body cut short by the client is dropped', half.status);
        const keepAlive = await rawRequest(srv.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', { timeoutMs: 5000 });
        ok(/"status":"ok"/.test(keepAlive.body) || keepAlive.status === 200, 'pipelined keep-alive requests on one connection');
        ok(answeredWhileRunning >= 10, `bad requests answered while the stream ran (${answeredWhileRunning})`);

        // slow clients are dropped after the idle timeout (2 s)
        const allClosed = await waitFor(() => held.every((h) => h.closed), 15000, 100);
        ok(allClosed && Date.now() - heldAt >= 1500, 'slowloris connections closed by the idle timeout', held.map((h) => h.closed));

        // the stream completed correctly
        const s = await streamDone;
        const text = s.events.filter((e) => e.choices.length).map((e) => e.choices[0].delta.content || '').join('');
        const fin = s.events.filter((e) => e.choices.length && e.choices[0].finish_reason).map((e) => e.choices[0].finish_reason);
        const usage = s.events.find((e) => e.usage && !e.choices.length);
        ok(s.done && fin.length === 1 && fin[0] === 'length' && usage && usage.usage.completion_tokens === M, 'the running stream finished normally', { fin, usage: usage && usage.usage });
        const alone = await (await fetch(srv.url(chat), { method: 'POST', headers: { 'Content-Type': 'application/json' },
                                                          body: JSON.stringify({ ...streamReq, stream: false, stream_options: undefined }) })).json();
        ok(alone.choices && alone.choices[0].message.content === text, 'and its text equals the same request run alone', { streamed: text.slice(0, 80), alone: alone.choices && alone.choices[0].message.content.slice(0, 80) });

        lazy.destroy();
        const idle = await waitFor(async () => (await metric(srv, 'fennec_active_sequences')) === 0, 15000, 100);
        ok(idle, 'the unread stream is cancelled once its client is gone');
        const health = await fetch(srv.url('/health'));
        ok(health.status === 200, 'server healthy after the battery');
    } finally {
        const st = await srv.stop();
        ok(st.code === 0 && !st.sanitizer, 'server exits cleanly on SIGTERM', st);
    }
    process.exitCode = finish();
}

main().catch((e) => { console.log(`FAIL - unexpected: ${e.stack || e}`); process.exitCode = 1; });
