// SPDX-License-Identifier: GPL-2.0-only
/*
 * allow.c - `klogctl allow add|del|list` and `klogctl bind list`: the
 * allowed sources and this server's addresses of a running klogd, live in
 * the maps it pinned (the programs look them up for every request).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <klog/klog.h>

#include "kern.h"
#include "klogctl.h"
#include "parse.h"

static int open_maps(struct klog_kern *k, const char *name)
{
	int err = klog_kern_access_open(k, name);

	if (err == -ENOENT)
		fprintf(stderr, "klogctl: no access maps pinned under " KLOG_PIN_ROOT "/%s: no "
			"log of that --name (or its klogd predates them)\n", name);
	else if (err)
		fprintf(stderr, "klogctl: opening the maps under " KLOG_PIN_ROOT "/%s: %s%s\n",
			name, strerror(-err), err == -EPERM || err == -EACCES ? " (root needed)"
										 : "");
	return err;
}

/* One entry per line, or {"KEY":["...",...]}. */
static int print_list(const char *key, const struct klog_addr *addrs,
		      const struct klog_allow_key *keys, int n, bool json)
{
	char s[KLOG_CIDR_STRLEN];

	if (json)
		printf("{\"%s\":[", key);
	for (int i = 0; i < n; i++) {
		if (addrs)
			klog_format_addr(&addrs[i], s, sizeof(s));
		else
			klog_format_cidr(&keys[i], s, sizeof(s));
		if (json)
			printf("%s\"%s\"", i ? "," : "", s);
		else
			printf("%s\n", s);
	}
	if (json)
		printf("]}\n");
	return fflush(stdout) ? 1 : 0;
}

static int list(struct klog_kern *k, bool allow, bool json)
{
	static struct klog_allow_key keys[KLOG_MAX_ALLOW];
	static struct klog_addr addrs[KLOG_MAX_LOCAL_ADDRS];
	int n = allow ? klog_kern_allow_list(k, keys, KLOG_MAX_ALLOW)
		      : klog_kern_local_list(k, addrs, KLOG_MAX_LOCAL_ADDRS);

	if (n < 0)
		return ctl_fail("listing the map", n);
	return allow ? print_list("allow", NULL, keys, n, json)
		     : print_list("bind", addrs, NULL, n, json);
}

/*
 * Each CIDR into keys (calloc'd), or say which cannot be one: a usage
 * error, found before any map is opened.  RETURN VALUE: 0, 1 or 2.
 */
static int parse_cidrs(char **cidrs, int n, struct klog_allow_key **keys)
{
	int err;

	if (!(*keys = calloc((size_t)n, sizeof(**keys))))
		return ctl_fail("allow", -ENOMEM);
	for (int i = 0; i < n; i++) {
		if ((err = klog_parse_cidr(cidrs[i], &(*keys)[i]))) {
			fprintf(stderr, "klogctl allow: %s: %s\n", cidrs[i], klog_cidr_strerror(err));
			free(*keys);
			*keys = NULL;
			return 2;
		}
	}
	return 0;
}

/* add or del each CIDR (keys, n of them, all parsed before any is applied). */
static int change(struct klog_kern *k, bool add, char **cidrs,
		  const struct klog_allow_key *keys, int n)
{
	int err = 0;

	for (int i = 0; i < n && !err; i++) {
		err = add ? klog_kern_allow_add(k, &keys[i]) : klog_kern_allow_del(k, &keys[i]);
		if (err == -ENOENT && !add)
			fprintf(stderr, "klogctl allow del: %s is not in the list (klogctl allow "
				"list shows it)\n", cidrs[i]);
		else if (err == -ENOSPC || err == -E2BIG)
			fprintf(stderr, "klogctl allow add: %s: the list is full (%d prefixes)\n",
				cidrs[i], KLOG_MAX_ALLOW);
		else if (err)
			fprintf(stderr, "klogctl allow: %s: %s\n", cidrs[i], strerror(-err));
	}
	if (!err && !add && klog_kern_allow_list(k, NULL, 0) == 0)
		fprintf(stderr, "klogctl allow del: the list is empty now: every source is "
			"refused\n");
	return err ? 1 : 0;
}

/* allow add|del|list and bind list: argv[0] is "klogctl allow" or "klogctl bind". */
int cmd_allow(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = strrchr(argv[0], ' ') ? strrchr(argv[0], ' ') + 1 : argv[0];
	bool allow = !strcmp(cmd, "allow"), json = false;
	const char *name = "default", *verb;
	struct klog_allow_key *keys = NULL;
	struct klog_kern k;
	int o, ret;

	while ((o = getopt_long(argc, argv, "n:jh", opts, NULL)) != -1) {
		switch (o) {
		case 'n': name = optarg; break;
		case 'j': json = true; break;
		case 'h': ctl_cmd_usage(stdout, cmd, true); return 0;
		default: return ctl_usage_error(cmd);
		}
	}
	verb = optind < argc ? argv[optind++] : "";
	if (!strcmp(verb, "list") ? optind != argc
	    : !allow || (strcmp(verb, "add") && strcmp(verb, "del")) || optind == argc || json) {
		fprintf(stderr, allow ? "klogctl allow: add CIDR..., del CIDR... or list [--json]\n"
				      : "klogctl bind: list [--json]\n");
		return ctl_usage_error(cmd);
	}
	if (strchr(name, '/') || !*name) {
		fprintf(stderr, "klogctl %s: --name '%s': a log's name: 1 character or more, "
			"without '/'\n", cmd, name);
		return 2;
	}
	if (strcmp(verb, "list") && (ret = parse_cidrs(argv + optind, argc - optind, &keys)))
		return ret;
	if (open_maps(&k, name)) {
		free(keys);
		return 1;
	}
	ret = !strcmp(verb, "list") ? list(&k, allow, json)
				    : change(&k, !strcmp(verb, "add"), argv + optind, keys,
					     argc - optind);
	klog_kern_access_close(&k);
	free(keys);
	return ret;
}
