/* SPDX-License-Identifier: GPL-2.0-only */
/* klogctl.h - the subcommands of klogctl, one file each. */
#ifndef KLOGCTL_H
#define KLOGCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct klog_reader;

/* Where a command reads a log: --dir DIR, or --nats URL[,URL...] --stream NAME (source.c). */
struct ctl_src {
	const char *dir, *nats, *stream;
	char name[96]; /* for messages: DIR, or "stream NAME" */
};

/* Their entries in a getopt_long table: 'd', 'N', 'T'. */
#define CTL_SRC_OPTIONS \
	{ "dir", required_argument, NULL, 'd' }, \
	{ "nats", required_argument, NULL, 'N' }, \
	{ "stream", required_argument, NULL, 'T' }
#define CTL_SRC_SHORT "d:N:T:"

/* Take option o (with arg) if it is one of the source's; true if it was. */
bool ctl_src_opt(struct ctl_src *s, int o, const char *arg);
/* At most one source, given whole (and one if required); 0, or 2 after a usage message. */
int ctl_src_check(struct ctl_src *s, const char *cmd, bool required);
bool ctl_src_given(const struct ctl_src *s);
int ctl_src_open(const struct ctl_src *s, struct klog_reader **r);
/* What a reader's error means, in words (its detail follows). */
const char *ctl_src_err_str(const struct ctl_src *s, int err);

int cmd_bench(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/*
 * Check the log of src with klog_verify() or klog_verify_nats(): each
 * problem on its own line and a summary line on standard output.  Returns
 * the exit status: 0 clean, 1.
 */
int ctl_verify_log(const struct ctl_src *src, bool keep_going);

/* Shared by the subcommands. */
void ctl_usage(FILE *f);
int ctl_fail(const char *what, int err);

#endif
