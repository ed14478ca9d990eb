/* t_zset.c: zset commands. */
#include "ember/command.h"

/* clang-format off */
struct command zset_commands[] = {
    COMMAND_TABLE_END,
};
/* clang-format on */
