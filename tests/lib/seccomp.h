/* SPDX-License-Identifier: GPL-2.0-only */
/* seccomp.h - make one system call fail with EPERM, as a seccomp profile would (or EIO). */
#ifndef KLOG_TEST_SECCOMP_H
#define KLOG_TEST_SECCOMP_H

/*
 * From now on, system call nr (__NR_...) fails with EPERM in this process,
 * its threads started later and whatever it executes; no_new_privs is set.
 * The sanitizers (tools/test.sh --sanitize) make neither io_uring call, so
 * a filter on them leaves ASan's and LSan's own system calls alone: the tests
 * that use it run instrumented like the others.
 * RETURN VALUE: 0 or -errno.
 */
int seccomp_deny_syscall(int nr);
/* The same with err (EIO: a disk that fails, for a call only the code under test makes). */
int seccomp_fail_syscall(int nr, int err);

#endif
