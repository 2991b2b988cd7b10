// debounce.js - small async helpers, for the tokenizer test corpus.
'use strict';

const DEFAULT_WAIT_MS = 250;

export function debounce(fn, wait = DEFAULT_WAIT_MS) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn.apply(this, args), wait);
  };
}

export async function retry(task, { attempts = 3, backoff = 2 } = {}) {
  let lastError;
  for (let i = 0; i < attempts; i++) {
    try {
      return await task(i);
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 100 * backoff ** i));
    }
  }
  throw new Error(`failed after ${attempts} attempts: ${lastError?.message ?? 'unknown'}`);
}

const users = [
  { id: 1, name: 'Ada', tags: ['math', 'engines'], active: true },
  { id: 2, name: "Grace", tags: ["cobol"], active: false },
  { id: 3, name: `Linus`, tags: [], active: null },
];

const byId = new Map(users.map((u) => [u.id, u]));
const names = users.filter((u) => u.active !== false).map(({ name }) => name.toUpperCase());
console.log(JSON.stringify({ names, count: byId.size, ok: names.length >= 2 && !!byId.get(1) }, null, 2));

class EventBus {
  #handlers = new Map();
  on(type, h) { (this.#handlers.get(type) ?? this.#handlers.set(type, []).get(type)).push(h); return this; }
  emit(type, ...a) { for (const h of this.#handlers.get(type) || []) h(...a); }
}

const re = /^(?<year>\d{4})-(?<month>0[1-9]|1[0-2])-(?<day>\d\d)$/u;
const m = '2024-02-29'.match(re);
if (m?.groups) console.log(m.groups.year | 0, +m.groups.month, m.groups.day >>> 0);
new EventBus().on('x', (v) => console.log(v === 0x1F ? 'yes' : 'no')).emit('x', 31);
