/* SPDX-License-Identifier: GPL-2.0-only */
/* klogctl.h - the subcommands of klogctl, one file each. */
#ifndef KLOGCTL_H
#define KLOGCTL_H

#include <stddef.h>
#include <stdint.h>

int cmd_bench(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* Shared by the subcommands. */
int ctl_fail(const char *what, int err);
void ctl_split_server(char *s, char **host, char **port);

#endif
