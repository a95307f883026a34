/*
 * cmd.h - what the subcommand files of the pintu command line share.
 * gateway/main.c dispatches "pintu <command>" to pt_cmd_<command>(argc, argv)
 * with argv[0] = "<command>".
 */
#ifndef PT_CMD_H
#define PT_CMD_H

#include <stddef.h>

#include "pintu/config.h"
#include "pintu/store.h"

/* The configuration (--config FILE, else the built-in demo) with --db applied
 * (either may be NULL). Prints the error and returns NULL on failure. */
struct pt_config *pt_cli_config(const char *config_path, const char *db_path);
/* Open (creating and migrating if needed) the store of cfg for a command that
 * writes: pt_store_exec() then runs on the calling thread, one durable
 * transaction each. Prints the error and returns NULL on failure. */
struct pt_store *pt_cli_store(const struct pt_config *cfg);

int pt_cmd_users(int argc, char **argv);      /* gateway/cmd_users.c: users add|list|disable|passwd */
int pt_cmd_apikeys(int argc, char **argv);    /* gateway/cmd_users.c: apikeys add|list|revoke (Open311 clients) */
int pt_cmd_broadcast(int argc, char **argv);  /* gateway/cmd_broadcast.c */
int pt_cmd_subscribers(int argc, char **argv);/* gateway/cmd_subscribers.c: subscribers import|export */

#endif
