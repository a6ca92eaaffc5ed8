/* commands.h — the subcommands of the `tern` command. */
#ifndef TERN_CLI_COMMANDS_H
#define TERN_CLI_COMMANDS_H

int cmd_info(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_eval(int argc, char **argv);

#endif /* TERN_CLI_COMMANDS_H */
