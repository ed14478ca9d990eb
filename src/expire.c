/* expire.c: key time-to-live commands. */
#include "ember/command.h"

/* clang-format off */
struct command expire_commands[] = {
    COMMAND_TABLE_END,
};
/* clang-format on */
