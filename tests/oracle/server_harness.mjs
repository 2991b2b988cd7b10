// server_harness.mjs - starts `fennec serve` for a test on a free loopback port, waits for
// /health, and always stops it (SIGTERM, then SIGKILL); checks that it exited cleanly and
// that no sanitizer report reached its log. Also: TAP-ish ok/FAIL lines and small HTTP
// helpers over raw sockets (for requests no client library would send).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

let nPass = 0, nFail = 0;
export function ok(cond, desc, detail) {
    if (cond) { nPass++; console.log(`ok   - ${desc}`); }
    else { nFail++; console.log(`FAIL - ${desc}${detail !== undefined ? ` (${typeof detail === 'string' ? detail : JSON.stringify(detail)})` : ''}`); }
    return cond;
}
export function finish() {
    console.log(`${nPass} passed, ${nFail} failed`);
    return nFail === 0 ? 0 : 1;
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const sanitized = process.env.FENNEC_SANITIZE === '1' || process.env.FENNEC_SANITIZE === 'ON' || process.env.FENNEC_SANITIZE === 'true';

const servers = new Set();
function killAll() { for (const s of servers) { try { s.proc.kill('SIGKILL'); } catch { /* gone */ } } }
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(1); });

// startServer({model, args, log, pidFile}) -> {port, base, url(path), stop()}
export async function startServer({ model, args = [], log, pidFile, readyTimeoutMs = 120000 }) {
    const fennec = process.env.FENNEC;
    const out = fs.openSync(log, 'w');
    const proc = spawn(fennec, ['serve', '-m', model, '--host', '127.0.0.1', '--port', '0', ...args],
                       { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const srv = { proc, exited: null };
    servers.add(srv);
    if (pidFile) fs.writeFileSync(pidFile, String(proc.pid));
    const exited = new Promise((resolve) => proc.on('exit', (code, signal) => { srv.exited = { code, signal }; resolve(srv.exited); }));
    const t0 = Date.now();
    let port = 0;
    while (!port) {
        if (srv.exited) throw new Error(`fennec serve exited early: ${fs.readFileSync(log, 'utf8')}`);
        if (Date.now() - t0 > readyTimeoutMs) throw new Error('fennec serve did not start listening');
        const m = /listening on http:\/\/[^:]+:(\d+)/.exec(fs.readFileSync(log, 'utf8'));
        if (m) port = Number(m[1]);
        else await sleep(50);
    }
    const base = `http://127.0.0.1:${port}`;
    let sawLoading = false;
    for (;;) {
        if (srv.exited) throw new Error(`fennec serve exited: ${fs.readFileSync(log, 'utf8')}`);
        if (Date.now() - t0 > readyTimeoutMs) throw new Error('the model did not load in time');
        try {
            const r = await fetch(`${base}/health`);
            if (r.status === 200) break;
            if (r.status === 503) sawLoading = true;
        } catch { /* not yet */ }
        await sleep(100);
    }
    return {
        port, base, sawLoading, proc, log,
        url: (p) => `${base}${p}`,
        // Stops the server; returns {code, signal, sanitizer: report or null}.
        async stop() {
            if (!srv.exited) {
                proc.kill('SIGTERM');
                const timer = setTimeout(() => { try { proc.kill('SIGKILL'); } catch { /* gone */ } }, 20000);
                await exited;
                clearTimeout(timer);
            }
            servers.delete(srv);
            const text = fs.readFileSync(log, 'utf8');
            const m = /(ERROR: (Address|Leak|Thread|UndefinedBehavior)Sanitizer[^\n]*|runtime error:[^\n]*)/.exec(text);
            return { ...srv.exited, sanitizer: m ? m[0] : null };
        },
    };
}

// Sends raw bytes, returns {status, headers, body, closed} once the server answers or
// closes (timeoutMs: give up and report what arrived).
export function rawRequest(port, bytes, { timeoutMs = 10000, endAfterWrite = false } = {}) {
    return new Promise((resolve) => {
        const sock = net.connect(port, '127.0.0.1');
        const chunks = [];
        let done = false;
        const finishWith = (closed) => {
            if (done) return;
            done = true;
            clearTimeout(timer);
            sock.destroy();
            const buf = Buffer.concat(chunks).toString('latin1');
            const m = /^HTTP\/1\.[01] (\d{3})/.exec(buf);
            const split = buf.indexOf('\r\n\r\n');
            let body = split >= 0 ? buf.slice(split + 4) : '';
            const headers = split >= 0 ? buf.slice(0, split) : buf;
            if (/transfer-encoding: chunked/i.test(headers)) body = dechunk(body);
            resolve({ status: m ? Number(m[1]) : 0, headers, body: Buffer.from(body, 'latin1').toString('utf8'), closed });
        };
        const timer = setTimeout(() => finishWith(false), timeoutMs);
        sock.on('data', (d) => {
            chunks.push(d);
            const s = Buffer.concat(chunks).toString('latin1');
            const split = s.indexOf('\r\n\r\n');
            if (split < 0) return;
            const cl = /content-length: (\d+)/i.exec(s.slice(0, split));
            if (cl && s.length - split - 4 >= Number(cl[1])) finishWith(false);
        });
        sock.on('end', () => finishWith(true));
        sock.on('close', () => finishWith(true));
        sock.on('error', () => finishWith(true));
        sock.write(bytes, () => { if (endAfterWrite) sock.end(); });
    });
}

function dechunk(s) {
    let out = '', i = 0;
    for (;;) {
        const eol = s.indexOf('\r\n', i);
        if (eol < 0) break;
        const n = parseInt(s.slice(i, eol), 16);
        if (!n) break;
        out += s.slice(eol + 2, eol + 2 + n);
        i = eol + 2 + n + 2;
    }
    return out;
}

export function postRaw(port, path, body, extraHeaders = '') {
    const b = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${b.length}\r\n${extraHeaders}Connection: close\r\n\r\n`;
    return rawRequest(port, Buffer.concat([Buffer.from(head, 'latin1'), b]));
}

// Reads an SSE stream from fetch() and returns the parsed events (objects) and whether
// "data: [DONE]" ended it.
export async function readSSE(response, onEvent) {
    const events = [];
    let done = false, buf = '';
    const dec = new TextDecoder();
    for await (const chunk of response.body) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
            const ev = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (!ev.startsWith('data: ')) throw new Error(`not an SSE data event: ${ev.slice(0, 80)}`);
            const data = ev.slice(6);
            if (data === '[DONE]') { done = true; continue; }
            const obj = JSON.parse(data);
            events.push(obj);
            if (onEvent) onEvent(obj);
        }
    }
    return { events, done, rest: buf };
}

export async function metric(srv, name) {
    const text = await (await fetch(srv.url('/metrics'))).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
}

// Polls until pred() is true or timeoutMs passes; returns the last value of pred().
export async function waitFor(pred, timeoutMs, stepMs = 50) {
    const t0 = Date.now();
    for (;;) {
        const v = await pred();
        if (v || Date.now() - t0 > timeoutMs) return v;
        await sleep(stepMs);
    }
}
