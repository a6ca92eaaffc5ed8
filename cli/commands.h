/* commands.h — the subcommands of the `tern` command. */
#ifndef TERN_CLI_COMMANDS_H
#define TERN_CLI_COMMANDS_H

int cmd_info(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_eval(int argc, char **argv);
#ifdef TERN_HAVE_USB
int cmd_devices(int argc, char **argv);
#endif
#ifdef TERN_HAVE_VBOARD
int cmd_vboard(int argc, char **argv);
#endif

#endif /* TERN_CLI_COMMANDS_H */
