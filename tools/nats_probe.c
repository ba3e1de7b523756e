// SPDX-License-Identifier: GPL-2.0-only
/*
 * nats_probe.c - `klog-nats-probe`: one JetStream request from the command
 * line, so that shell tests can check a NATS cluster (tools/nats-cluster.sh)
 * without the nats CLI, which Debian does not package.
 *
 *   klog-nats-probe add-stream URLS NAME REPLICAS [SUBJECT]  (subject NAME by default)
 *   klog-nats-probe pub URLS SUBJECT DATA       -> "STREAM SEQ"
 *   klog-nats-probe get URLS STREAM SEQ         -> the message's data, as stored
 *   klog-nats-probe info URLS STREAM            -> "first=F last=L msgs=M replicas=R
 *                                                   leader=NAME current=C"
 *
 * URLS is a comma-separated list (the line tools/nats-cluster.sh writes);
 * the client connects to any server of it that is up.  In `info`, current
 * counts the servers that hold the stream and are up to date, the leader
 * included.  Each run makes one request, without retries: a test that waits
 * for a new leader polls.  Exit status 0, 1 with a message on stderr when the
 * request fails, 2 on a usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

static const char usage[] =
	"usage: klog-nats-probe add-stream URLS NAME REPLICAS [SUBJECT]\n"
	"       klog-nats-probe pub URLS SUBJECT DATA\n"
	"       klog-nats-probe get URLS STREAM SEQ\n"
	"       klog-nats-probe info URLS STREAM\n";

static int fail(const char *what, natsStatus s, jsErrCode jerr)
{
	fprintf(stderr, "klog-nats-probe: %s: %s", what, natsStatus_GetText(s));
	if (jerr)
		fprintf(stderr, " (JetStream error %d)", (int)jerr);
	fprintf(stderr, "\n");
	return 1;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9') /* strtoull() would take a sign or spaces */
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int add_stream(jsCtx *js, char **argv, int argc)
{
	jsStreamConfig cfg;
	jsErrCode jerr = 0;
	const char *subj[1];
	uint64_t r;
	natsStatus s;

	if (parse_u64(argv[1], &r) || r < 1 || r > 5) {
		fprintf(stderr, "klog-nats-probe: replicas must be 1 to 5: %s\n", argv[1]);
		return 2;
	}
	jsStreamConfig_Init(&cfg);
	subj[0] = argc > 2 ? argv[2] : argv[0];
	cfg.Name = argv[0];
	cfg.Subjects = subj;
	cfg.SubjectsLen = 1;
	cfg.Replicas = (int64_t)r;
	cfg.Storage = js_FileStorage;
	s = js_AddStream(NULL, js, &cfg, NULL, &jerr);
	return s == NATS_OK ? 0 : fail("add-stream", s, jerr);
}

static int pub(jsCtx *js, char **argv)
{
	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsStatus s;

	s = js_Publish(&pa, js, argv[0], argv[1], (int)strlen(argv[1]), NULL, &jerr);
	if (s != NATS_OK)
		return fail("pub", s, jerr);
	printf("%s %" PRIu64 "\n", pa->Stream, pa->Sequence);
	jsPubAck_Destroy(pa);
	return 0;
}

static int get(jsCtx *js, char **argv)
{
	natsMsg *msg = NULL;
	jsErrCode jerr = 0;
	uint64_t seq;
	natsStatus s;
	int len;

	if (parse_u64(argv[1], &seq)) {
		fprintf(stderr, "klog-nats-probe: not a sequence number: %s\n", argv[1]);
		return 2;
	}
	s = js_GetMsg(&msg, js, argv[0], seq, NULL, &jerr);
	if (s != NATS_OK)
		return fail("get", s, jerr);
	len = natsMsg_GetDataLength(msg);
	if (len > 0 && fwrite(natsMsg_GetData(msg), 1, (size_t)len, stdout) != (size_t)len)
		return natsMsg_Destroy(msg), 1;
	natsMsg_Destroy(msg);
	return 0;
}

static int info(jsCtx *js, char **argv)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	int current = 0, i;

	s = js_GetStreamInfo(&si, js, argv[0], NULL, &jerr);
	if (s != NATS_OK)
		return fail("info", s, jerr);
	if (si->Cluster && si->Cluster->Leader)
		current = 1;
	for (i = 0; si->Cluster && i < si->Cluster->ReplicasLen; i++)
		current += si->Cluster->Replicas[i]->Current && !si->Cluster->Replicas[i]->Offline;
	printf("first=%" PRIu64 " last=%" PRIu64 " msgs=%" PRIu64 " replicas=%" PRId64
	       " leader=%s current=%d\n",
	       si->State.FirstSeq, si->State.LastSeq, si->State.Msgs, si->Config->Replicas,
	       si->Cluster && si->Cluster->Leader ? si->Cluster->Leader : "-", current);
	jsStreamInfo_Destroy(si);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; int min, max; } cmds[] = {
		{ "add-stream", 3, 4 }, { "pub", 3, 3 }, { "get", 3, 3 }, { "info", 2, 2 },
	};
	natsConnection *nc = NULL;
	natsOptions *opts = NULL;
	const char *servers[16];
	char *list, *tok, *save;
	int nservers = 0;
	jsCtx *js = NULL;
	natsStatus s;
	int c, rc;

	for (c = 0; argc >= 2 && c < 4; c++)
		if (!strcmp(argv[1], cmds[c].name))
			break;
	if (argc < 2 || c == 4 || argc - 2 < cmds[c].min || argc - 2 > cmds[c].max) {
		fputs(usage, stderr);
		return 2;
	}
	// libnats 3.4's natsOptions_SetURL takes one URL: the list is split here.
	list = strdup(argv[2]);
	for (tok = strtok_r(list, ",", &save); tok && nservers < 16; tok = strtok_r(NULL, ",", &save))
		servers[nservers++] = tok;
	// No reconnects: a probe answers for the cluster as it is now.
	s = list && nservers ? natsOptions_Create(&opts) : NATS_INVALID_ARG;
	if (s == NATS_OK)
		s = natsOptions_SetServers(opts, servers, nservers);
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(opts, false);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, opts);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	if (s != NATS_OK) {
		rc = fail(argv[2], s, 0);
		goto out;
	}
	switch (c) {
	case 0: rc = add_stream(js, argv + 3, argc - 3); break;
	case 1: rc = pub(js, argv + 3); break;
	case 2: rc = get(js, argv + 3); break;
	default: rc = info(js, argv + 3); break;
	}
	if (fflush(stdout))
		rc = 1;
out:
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(opts);
	nats_Close();
	free(list);
	return rc;
}
