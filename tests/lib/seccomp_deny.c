// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: seccomp-deny SYSCALL COMMAND [ARG...] - run COMMAND with one
 * system call (io_uring_setup or io_uring_enter) failing with EPERM, as a
 * container runtime's seccomp profile makes it fail, so tests can check what
 * klogd does where a system call is denied; pwrite64 fails with EIO instead,
 * as on a failing disk (klogd writes its index and klog.meta with it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "seccomp.h"

static const struct {
	const char *name;
	int nr;
} calls[] = {
	{ "io_uring_setup", __NR_io_uring_setup },
	{ "io_uring_enter", __NR_io_uring_enter },
	{ "pwrite64", __NR_pwrite64 },
};

int main(int argc, char **argv)
{
	int nr = -1, err;

	for (size_t i = 0; argc > 2 && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(argv[1], calls[i].name))
			nr = calls[i].nr;
	if (nr < 0) {
		fprintf(stderr, "usage: seccomp-deny io_uring_setup|io_uring_enter|pwrite64 COMMAND "
			"[ARG...]\n");
		return 2;
	}
	if ((err = seccomp_fail_syscall(nr, nr == __NR_pwrite64 ? EIO : EPERM))) {
		fprintf(stderr, "seccomp-deny: installing the filter: %s\n", strerror(-err));
		return 1;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "seccomp-deny: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
