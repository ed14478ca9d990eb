/* t_hash.c: hash commands. */
#include "ember/command.h"

/* clang-format off */
struct command hash_commands[] = {
    COMMAND_TABLE_END,
};
/* clang-format on */
