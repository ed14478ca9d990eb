/* t_set.c: set commands. */
#include "ember/command.h"

/* clang-format off */
struct command set_commands[] = {
    COMMAND_TABLE_END,
};
/* clang-format on */
