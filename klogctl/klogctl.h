/* SPDX-License-Identifier: GPL-2.0-only */
/* klogctl.h - the subcommands of klogctl, one file each. */
#ifndef KLOGCTL_H
#define KLOGCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

int cmd_bench(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/*
 * Check the log in dir with klog_verify(): each problem on its own line and
 * a summary line on standard output.  Returns the exit status: 0 clean, 1.
 */
int ctl_verify_log(const char *dir, bool keep_going);

/* Shared by the subcommands. */
void ctl_usage(FILE *f);
int ctl_fail(const char *what, int err);
void ctl_split_server(char *s, char **host, char **port);

#endif
