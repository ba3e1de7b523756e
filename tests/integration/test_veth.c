// SPDX-License-Identifier: GPL-2.0-only
/*
 * Description: the append programs on a real veth pair between two network
 * namespaces.  The server's end runs the XDP program (native mode) or the TC
 * ingress program; a UDP socket in the client namespace appends records of
 * random sizes over IPv4 and IPv6, with the client's checksum offload on
 * (requests carry a partial checksum) and off (full checksums), and must get
 * every ACK through its own kernel's checksum checks, LSNs in order; every
 * record is then read back from the maps byte for byte.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check_run.h"
#include "harness.h"
#include "xdp_pass.skel.h"

#define RECORDS 300

static void sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = system(cmd);
	ck_assert_msg(rc == 0, "`%s` exited %d", cmd, rc);
}

/* Namespaces are named after the test program's pid, so main can sweep them. */
static void ns_names(char *srv, char *cli, size_t n, pid_t owner)
{
	snprintf(srv, n, "klogt-%d-s-%d", owner, getpid());
	snprintf(cli, n, "klogt-%d-c-%d", owner, getpid());
}

static void enter_ns(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_msg(setns(fd, CLONE_NEWNET) == 0, "setns %s: %s", name, strerror(errno));
	close(fd);
}

static void attach(struct fixture *f, enum hook h, int ifindex)
{
	int fd = fixture_prog(f, h), err;

	if (h == HOOK_XDP) {
		err = bpf_xdp_attach(ifindex, fd, XDP_FLAGS_DRV_MODE, NULL);
		ck_assert_msg(!err, "attach XDP (native): %s", strerror(-err));
		return;
	}
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = fd);
	err = bpf_tc_hook_create(&hook);
	ck_assert_msg(!err || err == -EEXIST, "clsact: %s", strerror(-err));
	err = bpf_tc_attach(&hook, &opts);
	ck_assert_msg(!err, "attach TC: %s", strerror(-err));
}

/* The non-zero counters, for a failure message. */
static const char *stats_str(struct fixture *f)
{
	static char out[512];
	struct klog_stats st;
	size_t n = 0;

	out[0] = 0;
	if (klog_kern_stats(&f->k, &st))
		return "(stats unreadable)";
	for (int i = 0; i < KLOG_STAT__MAX; i++)
		if (((uint64_t *)&st)[i] && n < sizeof(out))
			n += snprintf(out + n, sizeof(out) - n, " %s=%llu", klog_stat_name(i),
				      (unsigned long long)((uint64_t *)&st)[i]);
	return out;
}

/* The server's veth address: the programs append only what is sent to one of theirs. */
static void add_local(struct fixture *f, int family, const char *text)
{
	uint8_t b[16];
	struct klog_addr a;

	ck_assert_int_eq(inet_pton(family, text, b), 1);
	if (family == AF_INET)
		klog_addr_v4(&a, b);
	else
		klog_addr_v6(&a, b);
	ck_assert_int_eq(klog_kern_local_add(&f->k, &a), 0);
}

/* veth: _i = (hook * 2 + ipv6) * 2 + offload */
START_TEST(veth)
{
	enum hook h = _i / 4;
	bool ipv6 = _i / 2 % 2, offload = _i % 2;
	struct klog_kern_opts o = KLOG_KERN_OPTS_DEFAULT;
	char srv[64], cli[64], vs[IFNAMSIZ], vc[IFNAMSIZ];
	static uint8_t payload[RECORDS][KLOG_MAX_RECORD], buf[KLOG_MAX_RECORD + 64];
	size_t lens[RECORDS];
	struct sockaddr_storage to = { 0 };
	struct timeval tv = { .tv_sec = 2 };
	struct xdp_pass *pass;
	struct fixture f;
	uint64_t x = 77 + _i;
	int sock, mtu = KLOG_MAX_RECORD + 100 > 1500 ? KLOG_MAX_RECORD + 100 : 1500;

	ns_names(srv, cli, sizeof(srv), getppid());
	snprintf(vs, sizeof(vs), "ks%d", getpid());
	snprintf(vc, sizeof(vc), "kc%d", getpid());
	sh("ip netns add %s && ip netns add %s", srv, cli);
	sh("ip link add %s mtu %d netns %s type veth peer name %s mtu %d netns %s", vs, mtu, srv,
	   vc, mtu, cli);
	sh("ip -n %s link set %s up && ip -n %s link set %s up", srv, vs, cli, vc);
	sh("ip -n %s addr add 10.99.0.1/24 dev %s && ip -n %s addr add 10.99.0.2/24 dev %s",
	   srv, vs, cli, vc);
	sh("ip -n %s addr add fd99::1/64 dev %s nodad && ip -n %s addr add fd99::2/64 dev %s nodad",
	   srv, vs, cli, vc);
	sh("ip netns exec %s ethtool -K %s tx %s >/dev/null", cli, vc, offload ? "on" : "off");

	fixture_load(&f, &o, true);
	add_local(&f, AF_INET, "10.99.0.1");
	add_local(&f, AF_INET6, "fd99::1");
	enter_ns(srv);
	attach(&f, h, if_nametoindex(vs));

	enter_ns(cli);
	/* XDP_TX frames reach a veth only when it runs NAPI: give it an XDP program. */
	pass = xdp_pass__open_and_load();
	ck_assert_ptr_nonnull(pass);
	ck_assert_int_eq(bpf_xdp_attach(if_nametoindex(vc), bpf_program__fd(pass->progs.xdp_pass),
					XDP_FLAGS_DRV_MODE, NULL), 0);
	if (ipv6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&to;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(KLOG_DEFAULT_PORT);
		inet_pton(AF_INET6, "fd99::1", &a->sin6_addr);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&to;

		a->sin_family = AF_INET;
		a->sin_port = htons(KLOG_DEFAULT_PORT);
		inet_pton(AF_INET, "10.99.0.1", &a->sin_addr);
	}
	sock = socket(to.ss_family, SOCK_DGRAM, 0);
	ck_assert_int_ge(sock, 0);
	ck_assert_int_eq(setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	ck_assert_int_eq(connect(sock, (struct sockaddr *)&to, sizeof(to)), 0);

	for (int i = 0; i < RECORDS; i++) {
		struct klog_msg m;
		int n;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		lens[i] = 1 + (x >> 33) % KLOG_MAX_RECORD;
		fill_payload(payload[i], lens[i], 1000 * _i + i);
		n = klog_encode_append(buf, sizeof(buf), 42, i, 5000 + i, payload[i], lens[i]);
		ck_assert_int_gt(n, 0);
		ck_assert_int_eq(send(sock, buf, n, 0), n);
		n = recv(sock, buf, sizeof(buf), 0);
		ck_assert_msg(n > 0, "record %d (%zu bytes): no reply: %s; counters:%s", i, lens[i],
			      strerror(errno), stats_str(&f));
		ck_assert_int_eq(klog_decode(buf, n, &m), 0);
		ck_assert_msg(m.opcode == KLOG_OP_ACK, "record %d: %s", i,
			      klog_status_str(m.status));
		ck_assert_uint_eq(m.lsn, KLOG_FIRST_LSN + i);
		ck_assert_uint_eq(m.request_id, i);
		ck_assert_uint_eq(m.txid, 5000 + i);
		ck_assert_uint_eq(m.client_id, 42);
	}
	for (int i = 0; i < RECORDS; i++) {
		struct klog_kern_rec rec;
		int n = klog_kern_read(&f.k, KLOG_FIRST_LSN + i, &rec, buf, sizeof(buf));

		ck_assert_int_eq(n, (int)lens[i]);
		ck_assert_msg(!memcmp(buf, payload[i], n), "record %d differs", i);
		ck_assert_uint_eq(rec.txid, 5000 + i);
	}
	close(sock);
	xdp_pass__destroy(pass);
	fixture_destroy(&f);
	sh("ip netns del %s && ip netns del %s", srv, cli);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("veth");
	TCase *tc = tcase_create("veth");
	char cmd[256];
	int rc;

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, veth, 0, 8);
	suite_add_tcase(s, tc);
	rc = run_suite(s);
	/* A failed case leaves its namespaces behind: sweep every one of ours. */
	snprintf(cmd, sizeof(cmd),
		 "for n in $(ip netns list | awk '/^klogt-%d-/ {print $1}'); do ip netns del $n; done",
		 getpid());
	if (system(cmd) != 0)
		fprintf(stderr, "test_veth: could not remove leftover namespaces\n");
	return rc;
}
