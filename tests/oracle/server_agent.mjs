// server_agent.mjs - a real coding agent against fennec serve: Qwen Code 0.24.4 run headless
// (qwen --auth-type openai -m NAME -p ...) with OPENAI_BASE_URL pointing at the server,
// telemetry and auto-update off. The model has random weights, so its answer is noise; a
// session passes when the agent gets a final answer with no API or protocol error. Then the
// request the agent sent (from its own API log) is replayed as recorded, and extended the
// way agents continue a session (assistant tool_calls with content null and "", tool
// results as content arrays, a dozen tools, max_tokens 32000, include_usage) - accepted.
// Usage: node server_agent.mjs MODEL TMPDIR QWEN_BIN CHAT_TEMPLATE
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ok, finish, startServer, sanitized, readSSE } from './server_harness.mjs';

const [model, tmp, qwenBin, template] = process.argv.slice(2);
const NAME = 'fennec-agent-test';

function run(cmd, args, opts) {
    return new Promise((resolve) => {
        const p = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '', err = '';
        p.stdout.on('data', (d) => { out += d; });
        p.stderr.on('data', (d) => { err += d; });
        const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs);
        p.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, out, err }); });
    });
}

async function post(srv, body) {
    const res = await fetch(srv.url('/v1/chat/completions'), { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-x' },
                                                                body: JSON.stringify(body) });
    if (res.status !== 200) return { status: res.status, error: await res.text() };
    const out = await readSSE(res);
    const usage = out.events.find((e) => e.usage && e.choices.length === 0);
    const fin = out.events.map((e) => e.choices.length && e.choices[0].finish_reason).filter(Boolean);
    return { status: 200, done: out.done, usage: usage && usage.usage, finish: fin[0] };
}

async function main() {
    // --max-tokens: random weights rarely end a turn on their own
    const srv = await startServer({ model, log: `${tmp}/server-agent.log`, pidFile: `${tmp}/server.pid`,
                                    args: ['--parallel', '2', '--ctx', '24576', '--model-name', NAME, '--max-tokens', sanitized ? '8' : '32',
                                           '--chat-template', template] });
    try {
        const home = path.join(tmp, 'home'), work = path.join(tmp, 'work'), logs = path.join(tmp, 'api-log');
        fs.mkdirSync(path.join(home, '.qwen'), { recursive: true });
        fs.mkdirSync(work, { recursive: true });
        fs.writeFileSync(path.join(home, '.qwen', 'settings.json'), JSON.stringify({
            general: { disableAutoUpdate: true, disableUpdateNag: true },
            privacy: { usageStatisticsEnabled: false },
            telemetry: { enabled: false },
        }));
        fs.writeFileSync(path.join(work, 'hello.c'), '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n');
        const args = ['--auth-type', 'openai', '-m', NAME, '-p', 'What does hello.c print?', '--bare',
                      '--openai-logging', '--openai-logging-dir', logs, '--max-session-turns', '3'];
        // the sanitizer build computes slowly: a short system prompt and one small tool
        // keep the prompt small (the release build sends the agent's full prompt)
        if (sanitized) args.push('--system-prompt', 'You are a coding agent. Be brief.',
                                 '--exclude-tools', 'run_shell_command', 'read_file', 'edit', 'notebook_edit', 'update_goal', 'write_file',
                                 'grep_search', 'glob', 'agent', 'skill', 'tool_search', 'list_agents', 'web_fetch', 'todo_write');
        const env = { ...process.env, HOME: home, OPENAI_BASE_URL: srv.url('/v1'), OPENAI_API_KEY: 'sk-fennec-test',
                      QWEN_CODE_MAX_OUTPUT_TOKENS: '32000', NO_COLOR: '1', CI: '1' };
        const t0 = Date.now();
        const r = await run(process.execPath, [qwenBin, ...args], { cwd: work, env, timeoutMs: 15 * 60 * 1000 });
        const secs = ((Date.now() - t0) / 1000).toFixed(1);
        const protocolError = /API Error|Connection error|terminated|Invalid|ECONNRESET|status code|Bad Request|\b4\d\d\b|\b5\d\d\b/i;
        ok(r.code === 0, `qwen-code session exits 0 (${secs} s)`, { code: r.code, signal: r.signal, stderr: r.err.slice(-800) });
        ok(r.out.trim().length > 0, 'the agent printed a final answer', r.out.slice(0, 200));
        ok(!protocolError.test(r.out + r.err.replace(/Ripgrep not available[^\n]*\n/, '')), 'no API or protocol error reported', (r.err + r.out).slice(-800));

        const files = fs.existsSync(logs) ? fs.readdirSync(logs).filter((f) => f.endsWith('.json')).sort() : [];
        const recs = files.map((f) => JSON.parse(fs.readFileSync(path.join(logs, f), 'utf8')));
        ok(recs.length >= 1 && recs.every((x) => !x.error), `agent API log: ${recs.length} request(s), none failed`,
           recs.map((x) => x.error && x.error.message));
        if (!recs.length) return;
        const req = recs[0].request;
        fs.writeFileSync(path.join(tmp, 'qwen-code-request.json'), JSON.stringify(req, null, 1));
        const kinds = req.messages.map((m) => `${m.role}:${Array.isArray(m.content) ? 'parts' : typeof m.content}`);
        console.log(`# recorded request: ${JSON.stringify(req).length} bytes, keys ${Object.keys(req).join(',')}, ` +
                    `messages [${kinds.join(' ')}], ${(req.tools || []).length} tools, max_tokens ${req.max_tokens}, ` +
                    `stream ${req.stream}, stream_options ${JSON.stringify(req.stream_options)}`);
        ok(req.stream === true && req.max_tokens === 32000 && (req.tools || []).length >= 1, 'the agent streamed with tools and max_tokens 32000');

        // replay the recorded body as is
        const replay = await post(srv, req);
        ok(replay.status === 200 && replay.done && (!req.stream_options || replay.usage), 'recorded agent request replays', replay);

        // the next turn of such a session, as agents send it
        const tools = [...req.tools];
        const small = tools.reduce((a, b) => (JSON.stringify(a).length <= JSON.stringify(b).length ? a : b));
        for (let i = 0; tools.length < (sanitized ? 2 : 12); i++) tools.push({ ...small, function: { ...small.function, name: `${small.function.name}_copy${i}` } });
        const name = req.tools[0].function.name;
        const next = {
            ...req,
            tools,
            max_tokens: 32000,
            stream: true,
            stream_options: { include_usage: true },
            messages: [
                ...req.messages,
                { role: 'assistant', content: null, tool_calls: [{ id: 'call_q1', type: 'function', function: { name, arguments: '{"file_path":"hello.c"}' } }] },
                { role: 'tool', tool_call_id: 'call_q1', content: [{ type: 'text', text: '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }' }] },
                { role: 'assistant', content: '', reasoning_content: 'It prints hi.', tool_calls: [
                    { id: 'call_q2', type: 'function', function: { name, arguments: '{}' } },
                    { id: 'call_q3', type: 'function', function: { name, arguments: '{"a":[1,2]}' } }] },
                { role: 'tool', tool_call_id: 'call_q2', content: [{ type: 'text', text: 'ok' }, { type: 'text', text: 'done' }] },
                { role: 'tool', tool_call_id: 'call_q3', content: '' },
                { role: 'user', content: [{ type: 'text', text: 'Thanks. Now summarize.' }] },
            ],
        };
        const turn = await post(srv, next);
        ok(turn.status === 200 && turn.done && turn.usage && turn.usage.prompt_tokens > replay.usage.prompt_tokens,
           `follow-up turn (tool calls, content arrays in every role, ${tools.length} tools) accepted`, turn);
    } finally {
        const st = await srv.stop();
        ok(st.code === 0 && !st.sanitizer, 'server exits cleanly on SIGTERM', st);
    }
    process.exitCode = finish();
}

main().catch((e) => { console.log(`FAIL - unexpected: ${e.stack || e}`); process.exitCode = 1; });
