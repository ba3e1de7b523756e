// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: seccomp-deny SYSCALL COMMAND [ARG...] - run COMMAND with one
 * system call (io_uring_setup or io_uring_enter) failing with EPERM, as a
 * container runtime's seccomp profile makes it fail, so tests can check what
 * klogd does where a system call is denied.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp_deny: add this architecture's AUDIT_ARCH"
#endif

static const struct {
	const char *name;
	int nr;
} calls[] = {
	{ "io_uring_setup", __NR_io_uring_setup },
	{ "io_uring_enter", __NR_io_uring_enter },
};

/* Make system call nr fail with EPERM in this process and what it executes. */
static int deny(int nr)
{
	struct sock_filter f[] = {
		/* Another architecture's numbers mean other calls: let them through. */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned int)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	/* Without no_new_privs only CAP_SYS_ADMIN may filter; with it, anyone. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
		return -errno;
	return 0;
}

int main(int argc, char **argv)
{
	int nr = -1, err;

	for (size_t i = 0; argc > 2 && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(argv[1], calls[i].name))
			nr = calls[i].nr;
	if (nr < 0) {
		fprintf(stderr, "usage: seccomp-deny io_uring_setup|io_uring_enter COMMAND [ARG...]\n");
		return 2;
	}
	if ((err = deny(nr))) {
		fprintf(stderr, "seccomp-deny: installing the filter: %s\n", strerror(-err));
		return 1;
	}
	execvp(argv[2], argv + 2);
	fprintf(stderr, "seccomp-deny: %s: %s\n", argv[2], strerror(errno));
	return 127;
}
