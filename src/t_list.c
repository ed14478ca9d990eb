/* t_list.c: list commands. */
#include "ember/command.h"

/* clang-format off */
struct command list_commands[] = {
    COMMAND_TABLE_END,
};
/* clang-format on */
