// SPDX-License-Identifier: GPL-2.0-only
/*
 * klogctl - append records to a klog server, and read them back by LSN from
 * a log directory, the JetStream stream klogd replicates it into, or an
 * export file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <klog/klog.h>

#include "klogctl.h"
#include "parse.h"

static int cmd_append(int argc, char **argv);
static int cmd_read(int argc, char **argv);
static int cmd_dump(int argc, char **argv);

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * The commands: synopsis (continuation lines indented for the "       klogctl "
 * before it) and what it does (continuation lines indented by 8, the name's
 * column), which `klogctl --help` prints all of and `klogctl CMD --help`
 * one of.
 */
static const struct ctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	bool source; /* reads a SOURCE: its help says what that is */
	const char *synopsis, *text;
} cmds[] = {
	{ "append", cmd_append, false,
	  "append --server HOST[:PORT] [--txid N] [--durable] FILE...",
	  "send each FILE (- for standard input) as one record, in order, and\n"
	  "        print the LSN of each, one per line, once the server has it in memory\n"
	  "        or, with --durable, once it is durable on disk; --txid gives the first\n"
	  "        record's transaction id, the next ones count up (default 0). HOST may\n"
	  "        be an IPv6 address in brackets: [fd00::1]:7070. An empty FILE is\n"
	  "        refused (a record is 1 byte at least); a durable append whose bytes\n"
	  "        were damaged on the way (CORRUPT) names the LSN of its tombstone; a\n"
	  "        log that stays full is \"log full (klogd behind or stopped)\"" },
	{ "read", cmd_read, true,
	  "read SOURCE LSN",
	  "write the payload of record LSN to standard output; if it cannot,\n"
	  "        say why (trimmed, not durable yet, missing from the log, corrupt,\n"
	  "        a tombstone: bytes damaged before they were stored)\n"
	  "        with the file, offset and LSNs, and exit 1" },
	{ "dump", cmd_dump, true,
	  "dump SOURCE [--from LSN] [--to LSN] [--payload] [--json]",
	  "one line per durable record: LSN, length, txid, CRC-32C; stops\n"
	  "        with a message and exit status 1 at the first record it cannot read;\n"
	  "        --payload adds the payload in base64; --json prints JSON lines\n"
	  "        {\"lsn\":N,\"txid\":N,\"len\":N,\"crc\":\"0x...\"[,\"payload\":\"BASE64\"]};\n"
	  "        a tombstone is \"LSN 0 TXID CRC CORRUPT\" ({...,\"corrupt\":true}), and\n"
	  "        their count goes to standard error" },
	{ "export", cmd_export, true,
	  "export SOURCE [--from LSN] [--to LSN] [--output FILE]",
	  "write LSNs --from (default the first) to --to (default the last\n"
	  "        durable when it starts) as one export file (doc/format.md) to --output\n"
	  "        FILE, synced, or to standard output if it is not a terminal; if a\n"
	  "        record of the range cannot be read, say why with its LSN and exit 1,\n"
	  "        leaving the file without the trailer that marks it complete" },
	{ "tail", cmd_tail, true,
	  "tail SOURCE [--from LSN] [-f|--follow] [--raw]",
	  "the durable records from --from (default: the first kept) to the\n"
	  "        end as dump --json --payload prints them, flushed one by one; with\n"
	  "        --follow, then each record as it becomes durable, until SIGINT or\n"
	  "        SIGTERM (exit status 0); --raw writes an export file instead (as\n"
	  "        export, open-ended, each frame at once), ended by a trailer when\n"
	  "        tail ends cleanly: read it with --file, check it with verify --file" },
	{ "info", cmd_info, false,
	  "info --server HOST[:PORT] [--json]",
	  "what the server says of itself (INFO): protocol version, backend,\n"
	  "        port, max_record, block_size, max_read_bytes, log_id, first_lsn,\n"
	  "        durable_lsn, next_lsn; one \"name value\" per line, or with --json\n"
	  "        one JSON object" },
	{ "bench", cmd_bench, true,
	  "bench --server HOST[:PORT] --count N [--size SPEC] [--seed N]\n"
	  "                     [--outstanding N] [--durable] [--json] [SOURCE]\n"
	  "                     [--acks FILE] [--timeout MS] [--retries N]\n"
	  "                     [--clients N] [--log FILE]",
	  "append COUNT generated records (txid 0..COUNT-1, sizes by SPEC:\n"
	  "        fixed:BYTES, uniform:MIN:MAX or mix = 75% 128 B / 25% 1024 B;\n"
	  "        default mix) with up to --outstanding requests in flight (1.."
	  STR(KLOG_DEDUP_WINDOW) ",\n"
	  "        default 1), acknowledged in memory or, with --durable, on disk; a\n"
	  "        progress line on standard error (with SOURCE, --dir or --nats: its\n"
	  "        --server is where it appends, also how far the durable log lags);\n"
	  "        then appends/s, MB/s and the latency from submission to\n"
	  "        acknowledgement (p50, p99, p99.9, max), or with --json one JSON\n"
	  "        object on one line; --acks writes \"LSN TXID\" per acknowledged record,\n"
	  "        in the order the acknowledgements arrive, --log \"LSN TXID CRC32C\" with\n"
	  "        the CRC-32C of the payload (tools/soak.sh); --timeout (1..60000 ms)\n"
	  "        and --retries (0..60000) set when a request is sent again and how\n"
	  "        often (200 ms, 10); --clients N runs N client processes (1..64,\n"
	  "        default 1), each its own socket and flow with --outstanding in\n"
	  "        flight, client i sending txids i, i+N, ...; the figures are over all\n"
	  "        of them" },
	{ "verify", cmd_verify, true,
	  "verify SOURCE [--keep-going]\n"
	  "                      [--count N [--size SPEC] [--seed N] [--acks FILE]\n"
	  "                       [--from LSN] [--to LSN] [--partial]]\n"
	  "                      [--timeout MS] [--retries N]   (with --server)",
	  "check the whole log in DIR: every segment header and the same log\n"
	  "        id in all, every record's CRC and LSN, every index entry, no gap\n"
	  "        between segments, every file readable; in a stream: its description\n"
	  "        names a log id, and every message from its first sequence to its\n"
	  "        last is that LSN's record sealed with it, none missing; one line per\n"
	  "        problem (file, offset, LSN; or stream, LSN), stopping at the first\n"
	  "        unless --keep-going, then a summary line (segments or the stream,\n"
	  "        records, LSNs, tombstones, log id); a tombstone is listed, counted\n"
	  "        and not a problem; exit status 0 only\n"
	  "        if the log is clean (not with --server: the files are the server's).\n"
	  "        With --count, then also that the log holds\n"
	  "        exactly the records bench generated with the same --count, --size\n"
	  "        and --seed: LSNs contiguous, each txid once, every byte as\n"
	  "        generated, and each acknowledged LSN (--acks), read by itself,\n"
	  "        holding its txid and its bytes; --from and --to check those LSNs only,\n"
	  "        --partial lets them hold a part of the txids (a bench that was\n"
	  "        killed); with --server, --timeout and --retries say when a READ is\n"
	  "        sent again and how often (200 ms, 10).\n"
	  "        In an export file (--file): its header, every frame's CRC, LSNs in\n"
	  "        order without a gap, and the trailer: without one it was cut short" },
	{ "allow", cmd_allow, false,
	  "allow add|del [--name NAME] CIDR...\n"
	  "       klogctl allow list [--name NAME] [--json]",
	  "the sources the running klogd of --name (default \"default\") takes\n"
	  "        requests from, changed live (klogd --allow sets them at start; a\n"
	  "        restart re-applies its options): add or del each CIDR (10.0.0.0/8,\n"
	  "        fd00::/8, a bare address is /32 or /128; bits set beyond the prefix\n"
	  "        are refused); list prints one CIDR per line, or with --json\n"
	  "        {\"allow\":[\"CIDR\",...]}. A source no prefix matches gets no answer" },
	{ "bind", cmd_allow, false,
	  "bind list [--name NAME] [--json]",
	  "list the addresses requests are taken at (klogd --bind, or the\n"
	  "        interface's, followed), one per line, or {\"bind\":[...]}" },
	{ "trim", cmd_trim, false,
	  "trim --dir DIR --before LSN [--json]",
	  "delete the whole segments of the log in DIR whose records are all\n"
	  "        below LSN, oldest first: never the newest segment (the one klogd\n"
	  "        writes), so what is left is always the log from some LSN on. Safe\n"
	  "        while klogd runs (the same code and lock as klogd --retain-*).\n"
	  "        Prints what was deleted and the first LSN kept; --json prints\n"
	  "        {\"deleted_segments\":N,\"deleted_bytes\":N,\"first_lsn\":N,\n"
	  "        \"first_kept\":N,\"segments\":N,\"bytes\":N} (first_lsn: the log's\n"
	  "        first LSN before). Readers answer \"trimmed\" below the first kept;\n"
	  "        exit status 0 also if nothing could go" },
	{ "status", cmd_status, false,
	  "status [--name NAME] [--json] [--stall DURATION]",
	  "whether the klogd of log NAME (default \"default\") is running and\n"
	  "        keeping up, and the log's figures: next, durable and truncated LSN,\n"
	  "        drain lag, window and pool fill, the programs' counters summed over\n"
	  "        CPUs (appends, NACKs and drops by reason), klogd's drain counters,\n"
	  "        segments and bytes on disk, retention settings. One figure per line,\n"
	  "        or with --json one object. Exit status (a health check, unlike the\n"
	  "        other commands): 0 healthy; 1 degraded (klogd's health is not ok, or\n"
	  "        records wait and the durable LSN has not moved for --stall, default\n"
	  "        " STR(CTL_STALL_S_DEFAULT) " s, plus the second the state file may lag, or klogd has not\n"
	  "        updated /run/klog/NAME.status for that long); 2 klogd is not running\n"
	  "        (what the pinned maps show is still printed), or a usage error.\n"
	  "        DURATION: 90, 90s, 15m, 12h, 7d (at least 1 s)" },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const char source_text[] =
	"SOURCE  where the log is read: --dir DIR, a log directory;\n"
	"        --nats URL[,URL...] --stream NAME, the NATS JetStream stream that\n"
	"        klogd --backend jetstream replicates it into (URL: nats://HOST:PORT);\n"
	"        --server HOST[:PORT], klogd over UDP (READ, doc/protocol.md); or\n"
	"        --file FILE, an export file (klogctl export)\n";

static const char exit_text[] =
	"Numbers are decimal, leading zeros too (00000000000000005264 is LSN 5264);\n"
	"a PORT is 1..65535 (default 7070). COMMAND --help prints that command's help.\n"
	"Exit status: 0 done; 1 the operation failed (a record or log not found or\n"
	"unreadable, a problem verify found, the server's refusal or no answer);\n"
	"2 a usage error (an unknown command or option, a bad or missing argument).\n";

static void print_cmd(FILE *f, const struct ctl_cmd *c, bool first)
{
	fprintf(f, "%sklogctl %s\n", first ? "usage: " : "       ", c->synopsis);
}

void ctl_usage(FILE *f)
{
	for (size_t i = 0; i < NCMDS; i++)
		print_cmd(f, &cmds[i], !i);
	fprintf(f, "       klogctl --version\n\n%s", source_text);
	for (size_t i = 0; i < NCMDS; i++)
		fprintf(f, "%-8s%s\n", cmds[i].name, cmds[i].text);
	fprintf(f, "\n%s", exit_text);
}

void ctl_cmd_usage(FILE *f, const char *cmd, bool full)
{
	const struct ctl_cmd *c = NULL;

	for (size_t i = 0; i < NCMDS && !c; i++)
		if (!strcmp(cmds[i].name, cmd))
			c = &cmds[i];
	if (!c) { /* not a command of this table */
		ctl_usage(f);
		return;
	}
	print_cmd(f, c, true);
	if (!full) {
		fprintf(f, "(klogctl %s --help says more)\n", cmd);
		return;
	}
	fprintf(f, "\n%-8s%s\n", c->name, c->text);
	if (c->source)
		fprintf(f, "%s", source_text);
	fprintf(f, "\n%s", exit_text);
}

int ctl_fail(const char *what, int err)
{
	fprintf(stderr, "klogctl: %s: %s\n", what, strerror(-err));
	return 1;
}

static int read_all(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, cap, f);
	*len = n;
	if (ferror(f) || (n == cap && fgetc(f) != EOF)) {
		int err = ferror(f) ? -EIO : -EMSGSIZE;

		if (f != stdin)
			fclose(f);
		return err;
	}
	if (f != stdin)
		fclose(f);
	return 0;
}

static int cmd_append(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "txid", required_argument, NULL, 't' },
		{ "durable", no_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static uint8_t buf[KLOG_MAX_RECORD];
	bool durable = false;
	char *server = NULL, *host, *port;
	struct klog_client *c;
	uint64_t txid = 0;
	int o, err;

	while ((o = getopt_long(argc, argv, "s:t:Dh", opts, NULL)) != -1) {
		switch (o) {
		case 's': server = optarg; break;
		case 'D': durable = true; break;
		case 't':
			if (ctl_num("append", "--txid", optarg, 0, UINT64_MAX, &txid))
				return 2;
			break;
		case 'h': ctl_cmd_usage(stdout, "append", true); return 0;
		default: return ctl_usage_error("append");
		}
	}
	if (!server || optind >= argc) {
		fprintf(stderr, "klogctl append: --server and at least one FILE are required\n");
		return ctl_usage_error("append");
	}
	if (ctl_server_check("append", "--server", server))
		return 2;
	klog_split_server(server, &host, &port);
	if ((err = klog_client_open(&c, host, port, NULL)))
		return ctl_client_fail(server, err);
	for (int i = optind; i < argc; i++, txid++) {
		size_t len = 0;
		uint64_t lsn = 0;

		if ((err = read_all(argv[i], buf, sizeof(buf), &len))) {
			klog_client_close(c);
			return ctl_fail(argv[i], err == -EMSGSIZE ? -EFBIG : err);
		}
		if (!len) {
			klog_client_close(c);
			fprintf(stderr, "klogctl: %s: empty: a record is 1 byte at least (the server "
				"refuses an empty one, BADLEN)\n", argv[i]);
			return 1;
		}
		err = durable ? klog_client_append_durable(c, buf, len, txid, &lsn) :
				klog_client_append(c, buf, len, txid, &lsn);
		if (err) {
			klog_client_close(c);
			if (err == -EILSEQ) /* NACK CORRUPT: the LSN holds a tombstone */
				fprintf(stderr, "klogctl: %s: LSN %" PRIu64 " holds a tombstone: the "
					"server's check of the bytes failed (CORRUPT): damaged on "
					"the way, not stored\n", argv[i], lsn);
			else if (durable && lsn) /* appended, but no DURABLE came back */
				fprintf(stderr, "klogctl: %s: appended at LSN %" PRIu64
					", durability not confirmed: %s\n", argv[i], lsn,
					klog_strerror(err));
			else
				ctl_client_fail(argv[i], err);
			return 1;
		}
		printf("%" PRIu64 "\n", lsn);
		fflush(stdout);
	}
	klog_client_close(c);
	return 0;
}

int ctl_src_args(int argc, char **argv, struct ctl_src *src, uint64_t *from, uint64_t *to,
		 struct ctl_out *out, const char **output)
{
	static const struct option opts[] = {
		CTL_SRC_OPTIONS,
		CTL_SRC_SERVER_OPTION,
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "payload", no_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *cmd = output ? "export" : from ? "dump" : "read";
	int o;

	*src = (struct ctl_src){ 0 };
	while ((o = getopt_long(argc, argv, CTL_SRC_SHORT "f:t:o:h", opts, NULL)) != -1) {
		if (ctl_src_opt(src, o, optarg))
			continue;
		switch (o) {
		case 'f':
		case 't':
			if (!from) {
				fprintf(stderr, "klogctl %s: --%s is an option of dump, export and "
					"tail\n", cmd, o == 'f' ? "from" : "to");
				return ctl_usage_error(cmd);
			}
			if (ctl_num(cmd, o == 'f' ? "--from" : "--to", optarg, 0, UINT64_MAX,
				    o == 'f' ? from : to))
				return 2;
			break;
		case 'p':
		case 'j':
			if (!out) {
				fprintf(stderr, "klogctl %s: --%s is an option of dump\n", cmd,
					o == 'p' ? "payload" : "json");
				return ctl_usage_error(cmd);
			}
			*(o == 'p' ? &out->payload : &out->json) = true;
			break;
		case 'o':
			if (!output) {
				fprintf(stderr, "klogctl %s: --output is an option of export\n", cmd);
				return ctl_usage_error(cmd);
			}
			*output = optarg;
			break;
		case 'h': ctl_cmd_usage(stdout, cmd, true); exit(0);
		default: return ctl_usage_error(cmd);
		}
	}
	return ctl_src_check(src, cmd, true);
}

static int cmd_read(int argc, char **argv)
{
	static uint8_t buf[KLOG_MAX_RECORD];
	struct klog_reader *r;
	struct ctl_src src;
	uint64_t lsn;
	int n, err;

	if ((err = ctl_src_args(argc, argv, &src, NULL, NULL, NULL, NULL)))
		return err;
	if (optind + 1 != argc) {
		fprintf(stderr, "klogctl read: one LSN is required\n");
		return ctl_usage_error("read");
	}
	if (ctl_num("read", "LSN", argv[optind], KLOG_FIRST_LSN, UINT64_MAX, &lsn))
		return 2;
	if ((err = ctl_src_open(&src, &r)))
		return ctl_src_open_fail(&src, err);
	n = klog_read(r, lsn, buf, sizeof(buf), NULL);
	if (n < 0) {
		char lead[64];

		snprintf(lead, sizeof(lead), "klogctl: LSN %" PRIu64, lsn);
		ctl_read_fail(&src, r, lead, n);
		klog_reader_close(r);
		return 1;
	}
	klog_reader_close(r);
	return fwrite(buf, 1, (size_t)n, stdout) == (size_t)n && !fflush(stdout) ? 0 : 1;
}

static int cmd_dump(int argc, char **argv)
{
	uint64_t from = 0, to = UINT64_MAX, first, last;
	struct ctl_out d = { 0 };
	struct klog_reader *r;
	struct ctl_src src;
	int err;

	if ((err = ctl_src_args(argc, argv, &src, &from, &to, &d, NULL)))
		return err;
	if (optind != argc) {
		fprintf(stderr, "klogctl dump: unexpected argument '%s'\n", argv[optind]);
		return ctl_usage_error("dump");
	}
	if ((err = ctl_src_open(&src, &r)))
		return ctl_src_open_fail(&src, err);
	err = klog_reader_bounds(r, &first, &last);
	if (err == -ENODATA) {
		klog_reader_close(r);
		return 0; /* nothing durable yet: nothing to print */
	}
	if (err) {
		ctl_read_fail(&src, r, "klogctl dump: the log's end", err);
		klog_reader_close(r);
		return 1;
	}
	d.next = from > first ? from : first;
	err = klog_iterate(r, d.next, to < last ? to : last, ctl_print_record, &d);
	if (d.tombstones) {
		fflush(stdout);
		fprintf(stderr, "klogctl dump: %" PRIu64 " tombstone%s (CORRUPT: the records' bytes "
			"were damaged before they were stored)\n", d.tombstones,
			d.tombstones == 1 ? "" : "s");
	}
	if (err) {
		char lead[96];

		fflush(stdout);
		snprintf(lead, sizeof(lead), "klogctl dump: stopped at LSN %" PRIu64
			 " after %" PRIu64 " records", d.next, d.printed);
		ctl_read_fail(&src, r, lead, err);
	}
	klog_reader_close(r);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		ctl_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("klogctl %s\n", KLOG_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCMDS; i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			char prog[32];

			/* getopt's messages begin with argv[0]: "klogctl dump: unrecognized option" */
			snprintf(prog, sizeof(prog), "klogctl %s", cmds[i].name);
			argv[1] = prog;
			return cmds[i].run(argc - 1, argv + 1);
		}
	}
	fprintf(stderr, "klogctl: unknown command '%s'\n", argv[1]);
	ctl_usage(stderr);
	return 2;
}
