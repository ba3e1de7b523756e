// SPDX-License-Identifier: GPL-2.0-only
/* jstest.c - a nats-server for a test, and klog streams written by hand (jstest.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <klog/klog.h>

#include "format.h"
#include "jstest.h"
#include "logbuild.h"

/* A port nothing listens on now: the kernel's pick for a socket bound to port 0. */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -errno;

	if (fd < 0)
		return port;
	if (!bind(fd, (struct sockaddr *)&a, sizeof(a)) &&
	    !getsockname(fd, (struct sockaddr *)&a, &n))
		port = ntohs(a.sin_port);
	else
		port = -errno;
	close(fd);
	return port;
}

static bool answers(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok = fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof(a));

	if (fd >= 0)
		close(fd);
	return ok;
}

static pid_t spawn(const char *dir, int port, bool jetstream)
{
	char p[16], log[PATH_MAX + 16];
	pid_t ppid = getpid(), pid = fork();
	int fd;

	if (pid)
		return pid < 0 ? -errno : pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != ppid)
		_exit(127);
	snprintf(p, sizeof(p), "%d", port);
	snprintf(log, sizeof(log), "%s/server.log", dir);
	if ((fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p", p, "-sd", dir,
	       jetstream ? "-js" : (char *)NULL, (char *)NULL);
	_exit(127);
}

/* Wait up to 10 s for the server at port, unless it exits first. */
static int wait_ready(pid_t pid, int port)
{
	for (int i = 0; i < 1000; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -ECHILD;
		if (answers(port))
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

int jsserver_start(struct jsserver *s)
{
	int err = -EADDRINUSE;

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/var/tmp/klog-test-nats-XXXXXX");
	if (!mkdtemp(s->dir))
		return -errno;
	/* Another process may take the port between the pick and the server's bind: pick again. */
	for (int tries = 0; tries < 5 && err; tries++) {
		int port = free_port();

		if (port < 0)
			return port;
		if ((s->pid = spawn(s->dir, port, true)) < 0)
			return s->pid;
		if (!(err = wait_ready(s->pid, port))) {
			s->port = port;
			snprintf(s->url, sizeof(s->url), "nats://127.0.0.1:%d", port);
		}
		else if (err == -ETIMEDOUT)
			break;
	}
	return err;
}

void jsserver_down(struct jsserver *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		for (int i = 0; i < 500 && waitpid(s->pid, NULL, WNOHANG) != s->pid; i++)
			usleep(10000);
		if (!kill(s->pid, SIGKILL))
			waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
}

int jsserver_up(struct jsserver *s, bool jetstream)
{
	if ((s->pid = spawn(s->dir, s->port, jetstream)) < 0)
		return s->pid;
	return wait_ready(s->pid, s->port);
}

void jsserver_stop(struct jsserver *s)
{
	char cmd[PATH_MAX + 16];

	jsserver_down(s);
	if (s->dir[0] && !strncmp(s->dir, "/var/tmp/klog-test-nats-", 24)) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
		if (system(cmd))
			fprintf(stderr, "jsserver: cannot remove %s\n", s->dir);
	}
	s->dir[0] = 0;
}

/* JetStream may not be ready the moment the server accepts connections: try for 10 s. */
int jstest_create_cfg(struct klog_js *c, jsStreamConfig *cfg)
{
	const char *subjects[] = { c->subject };
	jsErrCode jerr = 0;
	natsStatus s = NATS_ERR;

	cfg->Name = c->stream;
	cfg->Subjects = subjects;
	cfg->SubjectsLen = 1;
	for (int i = 0; i < 100 && s != NATS_OK; i++) {
		if (i)
			usleep(100000);
		s = js_AddStream(NULL, c->js, cfg, NULL, &jerr);
	}
	cfg->Subjects = NULL;
	cfg->SubjectsLen = 0;
	return klog_js_errno(s, jerr);
}

int jstest_create(struct klog_js *c, const char *desc)
{
	jsStreamConfig cfg;

	jsStreamConfig_Init(&cfg);
	cfg.Description = desc;
	cfg.Storage = js_FileStorage;
	return jstest_create_cfg(c, &cfg);
}

int jstest_create_log(struct klog_js *c, uint64_t log_id)
{
	char desc[64];

	klog_js_describe(desc, sizeof(desc), log_id);
	return jstest_create(c, desc);
}

void jstest_fill(uint8_t *p, uint64_t lsn, uint32_t len)
{
	for (uint32_t k = 0; k < len; k++)
		p[k] = (uint8_t)(lsn * 131 + k * 7 + (lsn >> 8));
}

/* The message of lsn's record into rec; its size. */
static int make(uint8_t *rec, uint64_t lsn, uint32_t len, uint64_t salt)
{
	static uint8_t payload[KLOG_MAX_RECORD];

	jstest_fill(payload, lsn, len);
	return (int)klog_rec_encode(rec, lsn, lsn + 1000, 0, salt, payload, len);
}

int jstest_publish(struct klog_js *c, uint64_t lsn, uint32_t len, uint64_t salt, long flip)
{
	static uint8_t rec[KLOG_MAX_RECORD + 64];
	int n = make(rec, lsn, len, salt);
	jsPubOptions po;
	jsErrCode jerr = 0;
	natsStatus s;

	if (flip >= 0 && flip < n)
		rec[flip] ^= 0x01;
	jsPubOptions_Init(&po);
	po.ExpectLastSeq = lsn - 1;
	s = js_Publish(NULL, c->js, c->subject, rec, n, lsn > 1 ? &po : NULL, &jerr);
	return klog_js_errno(s, jerr);
}

int jstest_publish_range(struct klog_js *c, uint64_t first, uint64_t last, uint64_t salt)
{
	static uint8_t rec[KLOG_MAX_RECORD + 64];
	int err = 0;

	/* Asynchronous, as klogd publishes: thousands of records in well under a second. */
	for (uint64_t lsn = first; lsn <= last && !err; lsn++) {
		int n = make(rec, lsn, logbuild_len(lsn), salt);

		err = klog_js_errno(js_PublishAsync(c->js, c->subject, rec, n, NULL), 0);
	}
	return err ? err : klog_js_errno(js_PublishAsyncComplete(c->js, NULL), 0);
}

int jstest_purge(struct klog_js *c, uint64_t seq)
{
	jsOptions o;
	jsErrCode jerr = 0;
	natsStatus s;

	jsOptions_Init(&o);
	o.Stream.Purge.Sequence = seq;
	s = js_PurgeStream(c->js, c->stream, &o, &jerr);
	return klog_js_errno(s, jerr);
}
