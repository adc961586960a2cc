/*
 * Serial line-editing shell.
 *
 * Editing: printable characters, Backspace/DEL, Ctrl-U (kill line),
 * Ctrl-C (cancel line), Up/Down (8-entry history), Enter.
 *
 * Others add commands with shell_register(); the struct must outlive the
 * kernel (use static storage).  A command gets argc/argv split on spaces
 * (argv[0] is the command name; at most SHELL_MAX_ARGS) and returns 0 on
 * success, non-zero to make the shell print its exit status.  Sub-commands
 * ("vnet info", "vnet stats") are the command's own business: register
 * "vnet" and switch on argv[1].
 */
#ifndef ORION_SHELL_H
#define ORION_SHELL_H

#define SHELL_MAX_ARGS 16
#define SHELL_MAX_CMDS 48

struct shell_cmd {
	const char *name;
	const char *usage;   /* one line for "help", e.g. "vnet info|stats" */
	int (*fn)(int argc, char **argv);
};

/* 0, or -1 if the table is full or the name is taken. */
int shell_register(const struct shell_cmd *cmd);
/* Run one command line (also used by self-tests); returns its status. */
int shell_exec(char *line);
/* Interactive loop; never returns. */
__attribute__((noreturn)) void shell_run(void);
void shell_builtins_init(void);

#endif
