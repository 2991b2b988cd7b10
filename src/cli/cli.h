/* cli.h - the `fennec` subcommands. Each takes argc/argv starting at the subcommand's own
 * name, prints errors as one line on stderr and returns the process exit status. */
#ifndef FENNEC_CLI_CLI_H
#define FENNEC_CLI_CLI_H

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_command;

int cmd_inspect(int argc, char **argv);
int cmd_make_model(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_chat_template(int argc, char **argv);
int cmd_serve(int argc, char **argv);

/* Prints "fennec: <message>" on stderr and returns 1 (for `return cli_fail(...)`). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* True if argv[i] is -h or --help. */
int cli_is_help(const char *arg);

#endif
