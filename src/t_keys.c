/* t_keys.c: keys commands. */
#include "ember/command.h"

/* clang-format off */
struct command keys_commands[] = {
    COMMAND_TABLE_END,
};
/* clang-format on */
