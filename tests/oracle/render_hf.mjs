// render_hf.mjs - reference rendering of a chat template with Hugging Face's JavaScript Jinja
// (@huggingface/jinja, what transformers.js uses; same trim_blocks/lstrip_blocks as Python
// transformers). Takes the same arguments as `fennec chat-template --template`:
//
//   node render_hf.mjs TEMPLATE.jinja CONV.json [--tools T.json] [--kwargs K.json]
//                      [--bos-token S] [--eos-token S] [--no-generation-prompt]
//
// CONV.json is an array of messages or {messages, tools?, kwargs?, add_generation_prompt?}.
// Prints the rendered text exactly (no newline added); on a template error prints the message
// on stderr and exits 1. With --out-dir DIR and several CONV files (one process for many
// cases), writes DIR/NAME.txt, or DIR/NAME.err for a failure, per CONV file NAME.json. Inputs are prepared as Fennec prepares them: assistant
// tool_calls[].function.arguments strings holding a JSON object are decoded to that object.
import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { Template } from "@huggingface/jinja";

function fail(msg) {
	process.stderr.write(`render_hf: ${msg}\n`);
	process.exit(1);
}

const positional = [];
const opts = { addGenerationPrompt: true, bos: "", eos: "", tools: undefined, kwargs: undefined, outDir: undefined };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
	const a = argv[i];
	const value = () => {
		if (i + 1 >= argv.length) fail(`${a} needs a value`);
		return argv[++i];
	};
	if (a === "--no-generation-prompt") opts.addGenerationPrompt = false;
	else if (a === "--bos-token") opts.bos = value();
	else if (a === "--eos-token") opts.eos = value();
	else if (a === "--tools") opts.tools = JSON.parse(readFileSync(value(), "utf8"));
	else if (a === "--kwargs") opts.kwargs = JSON.parse(readFileSync(value(), "utf8"));
	else if (a === "--out-dir") opts.outDir = value();
	else positional.push(a);
}
if (positional.length < 2 || (positional.length > 2 && opts.outDir === undefined))
	fail("usage: render_hf.mjs TEMPLATE.jinja CONV.json [options] | TEMPLATE CONV... --out-dir DIR");

// The variables transformers passes for one conversation file, or throws.
function variables(convPath) {
	const conv = JSON.parse(readFileSync(convPath, "utf8"));
	let messages;
	let tools = null;
	let kwargs = {};
	let addGenerationPrompt = opts.addGenerationPrompt;
	if (Array.isArray(conv)) {
		messages = conv;
	} else {
		messages = conv.messages;
		if (conv.tools !== undefined) tools = conv.tools;
		if (conv.kwargs !== undefined) kwargs = conv.kwargs;
		if (typeof conv.add_generation_prompt === "boolean" && opts.addGenerationPrompt)
			addGenerationPrompt = conv.add_generation_prompt;
	}
	if (opts.tools !== undefined) tools = opts.tools;
	if (opts.kwargs !== undefined) kwargs = opts.kwargs;

	// OpenAI clients send tool-call arguments as a JSON string; templates iterate the object.
	for (const m of messages) {
		if (!m || typeof m !== "object" || !Array.isArray(m.tool_calls)) continue;
		for (const call of m.tool_calls) {
			const fn = call && typeof call === "object" ? call.function : undefined;
			if (!fn || typeof fn !== "object" || typeof fn.arguments !== "string") continue;
			try {
				const parsed = JSON.parse(fn.arguments);
				if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) fn.arguments = parsed;
			} catch {
				// not JSON: the template sees the string
			}
		}
	}

	const vars = {
		messages,
		tools,
		add_generation_prompt: addGenerationPrompt,
		bos_token: opts.bos,
		eos_token: opts.eos,
	};
	for (const [k, v] of Object.entries(kwargs)) {
		if (k in vars) throw new Error(`kwarg '${k}' would replace a standard variable`);
		vars[k] = v;
	}
	return vars;
}

function message(e) {
	return e && e.message !== undefined ? e.message : String(e);
}

const source = readFileSync(positional[0], "utf8");
let template;
let parseError;
try {
	template = new Template(source);
} catch (e) {
	parseError = e;
}

if (opts.outDir === undefined) {
	if (parseError) fail(message(parseError));
	let text;
	try {
		text = template.render(variables(positional[1]));
	} catch (e) {
		fail(message(e));
	}
	process.stdout.write(text);
} else {
	for (const conv of positional.slice(1)) {
		const name = basename(conv, ".json");
		try {
			if (parseError) throw parseError;
			writeFileSync(join(opts.outDir, `${name}.txt`), template.render(variables(conv)));
		} catch (e) {
			writeFileSync(join(opts.outDir, `${name}.err`), message(e) + "\n");
		}
	}
}
