/* main.c - the `fennec` executable: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const cli_command commands[] = {
    {"inspect", "show a GGUF file's metadata, tensors and active bytes per token", cmd_inspect},
    {"make-model", "write a synthetic model with seeded random weights", cmd_make_model},
    {"quantize", "convert a GGUF model's weights to another type", cmd_quantize},
    {"run", "complete a prompt, streaming the text", cmd_run},
    {"bench", "measure prompt processing and generation speed", cmd_bench},
    {"perplexity", "teacher-forced evaluation of a text: perplexity, top-1, distributions", cmd_perplexity},
    {"tokenize", "text to token ids with the model's tokenizer", cmd_tokenize},
    {"chat-template", "render a chat template for a conversation (as Hugging Face does)", cmd_chat_template},
    {"serve", "OpenAI-compatible HTTP server (chat completions, tool calls, streaming)", cmd_serve},
};

static void print_help(FILE *out) {
    fprintf(out, "usage: fennec COMMAND [ARGS...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-12s %s\n", "help", "show this list");
    fprintf(out, "\nRun 'fennec COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        print_help(stderr);
        return 2;
    }
    const char *name = argv[1];
    if (!strcmp(name, "help") || cli_is_help(name)) {
        print_help(stdout);
        return 0;
    }
    if (!strcmp(name, "--version")) {
        printf("fennec 0.1.0\n");
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    return cli_fail("unknown command '%s' (try 'fennec help')", name);
}
