/* SPDX-License-Identifier: MIT */
/*
 * The writer, read back by independent readers: jq for json/ndjson, Python's
 * csv module for csv, promtool for Prometheus text. Text output is compared
 * with layouts written out by hand.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "out.h"

/* A string with everything a writer must escape or quote. */
static const char nasty[] = "a,b \"q\" \\ tab\t nl\n end";

struct buf {
	char *data;
	size_t len;
	FILE *f;
};

static void buf_open(struct buf *b)
{
	memset(b, 0, sizeof(*b));
	b->f = open_memstream(&b->data, &b->len);
	assert_non_null(b->f);
}

static void buf_close(struct buf *b)
{
	assert_int_equal(fclose(b->f), 0);
}

/* Writes s to a temporary file and returns its path (static storage). */
static const char *to_file(const char *s)
{
	static char path[] = "/tmp/test_out.XXXXXX";
	int fd;

	strcpy(path, "/tmp/test_out.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
	return path;
}

static bool have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* Runs cmd_fmt with %s as the file holding input; returns its stdout. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static char *run_on(const char *cmd_fmt, const char *input, int *ret_status)
{
	const char *path = to_file(input);
	char cmd[1024], *out = NULL;
	size_t len = 0;
	FILE *p, *o;
	int c;

	snprintf(cmd, sizeof(cmd), cmd_fmt, path);
	p = popen(cmd, "r");
	assert_non_null(p);
	o = open_memstream(&out, &len);
	while ((c = fgetc(p)) != EOF)
		fputc(c, o);
	fclose(o);
	*ret_status = pclose(p);
	unlink(path);
	return out;
}
#pragma GCC diagnostic pop

static void expect_cmd(const char *cmd_fmt, const char *input, const char *expected)
{
	int status;
	char *out = run_on(cmd_fmt, input, &status);

	if (status != 0 || strcmp(out, expected))
		print_error("command: %s\ninput:\n%s\noutput:\n%s\nexpected:\n%s\n", cmd_fmt,
			    input, out, expected);
	assert_int_equal(status, 0);
	assert_string_equal(out, expected);
	free(out);
}

/* A summary document exercising every field kind. */
static void write_doc(struct mp_writer *w)
{
	assert_int_equal(mp_doc_begin(w, "owd to host"), 0);
	assert_int_equal(mp_put_label(w, "target", "target %s", "10.0.0.2"), 0);
	assert_int_equal(mp_put_u64(w, "sent", "%" PRIu64 " sent", 1000), 0);
	assert_int_equal(mp_put_i64(w, "offset_ns", "offset %" PRId64 " ns", -1500), 0);
	assert_int_equal(mp_put_bool(w, "synced", "synced %s", true), 0);
	assert_int_equal(mp_put_u64_notext(w, "hidden", 7), 0);
	assert_int_equal(mp_obj_begin(w, "forward", NULL), 0);
	assert_int_equal(mp_put_u64(w, "lost", "lost %" PRIu64, 2), 0);
	assert_int_equal(mp_obj_begin(w, "owd_ms", "owd"), 0);
	assert_int_equal(mp_put_f64(w, "min", "min %.3f ms", 30.125), 0);
	assert_int_equal(mp_put_f64(w, "mean", "mean %.3f ms", NAN), 0);
	assert_int_equal(mp_obj_end(w), 0);
	assert_int_equal(mp_obj_end(w), 0);
	assert_int_equal(mp_arr_begin(w, "hops", NULL), 0);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(mp_obj_begin(w, NULL, NULL), 0);
		assert_int_equal(mp_put_u64(w, "ttl", "%" PRIu64, i), 0);
		assert_int_equal(mp_put_label(w, "addr", "%s", i == 1 ? "10.0.0.1" : "fd00::1"),
				 0);
		assert_int_equal(mp_put_f64(w, "loss_pct", "%.1f%%", i * 12.5), 0);
		assert_int_equal(mp_obj_end(w), 0);
	}
	assert_int_equal(mp_arr_end(w), 0);
	assert_int_equal(mp_arr_begin(w, "ports", "ports"), 0);
	assert_int_equal(mp_put_u64(w, NULL, "%" PRIu64, 862), 0);
	assert_int_equal(mp_put_u64(w, NULL, "%" PRIu64, 5121), 0);
	assert_int_equal(mp_arr_end(w), 0);
	assert_int_equal(mp_put_str(w, "note", "note %s", nasty), 0);
	assert_int_equal(mp_doc_end(w), 0);
}

static void write_records(struct mp_writer *w, const char *type, int n)
{
	for (int i = 0; i < n; i++) {
		assert_int_equal(mp_record_begin(w, type), 0);
		assert_int_equal(mp_put_u64(w, "seq", "%" PRIu64, i), 0);
		assert_int_equal(mp_obj_begin(w, "fwd", NULL), 0);
		assert_int_equal(mp_put_f64(w, "owd_ms", "%.3f", 10.5 + i), 0);
		assert_int_equal(mp_obj_end(w), 0);
		assert_int_equal(mp_put_str(w, "tag", "%s", i == 1 ? nasty : "plain"), 0);
		assert_int_equal(mp_record_end(w), 0);
	}
}

static char *render(enum mp_format fmt, bool records, bool doc)
{
	struct mp_writer *w = NULL;
	struct buf b;
	char *s;

	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, fmt, b.f, "owd", "owd/1"), 0);
	if (records)
		write_records(w, "packet", 3);
	if (doc)
		write_doc(w);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	s = b.data;
	return s;
}

static void test_format_parse(void **state)
{
	enum mp_format f = MP_FMT_TEXT;

	(void)state;
	assert_int_equal(mp_format_parse("ndjson", &f), 0);
	assert_int_equal(f, MP_FMT_NDJSON);
	assert_int_equal(mp_format_parse("prom", &f), 0);
	assert_int_equal(f, MP_FMT_PROM);
	assert_int_equal(mp_format_parse("JSON", &f), -EINVAL);
	assert_int_equal(mp_format_parse("", &f), -EINVAL);
	assert_int_equal(mp_format_parse(NULL, &f), -EINVAL);
	assert_int_equal(f, MP_FMT_PROM);
}

static void test_text_doc(void **state)
{
	char *s = render(MP_FMT_TEXT, false, true);
	const char *expected =
		"owd to host\n"
		"target 10.0.0.2, 1000 sent, offset -1500 ns, synced yes, ports: 862 5121, "
		"note a,b \"q\" \\ tab\t nl\n end\n"
		"forward: lost 2\n"
		"  owd: min 30.125 ms, mean - ms\n"
		"hops:\n"
		"  ttl  addr      loss_pct\n"
		"    1  10.0.0.1     12.5%\n"
		"    2  fd00::1      25.0%\n";

	(void)state;
	assert_string_equal(s, expected);
	free(s);
}

static void test_text_records(void **state)
{
	char *s = render(MP_FMT_TEXT, true, false);
	/* widths from the header and the first row; later rows stream */
	const char *expected =
		"seq  owd_ms  tag\n"
		"  0  10.500  plain\n"
		"  1  11.500  a,b \"q\" \\ tab\t nl\n end\n"
		"  2  12.500  plain\n";
	/* a wider cell widens its column (+2) under a header printed again */
	const char *widened =
		"seq  owd_ms  tag\n"
		"  0  10.500  plain\n"
		"      seq  owd_ms  tag\n"
		"  1000000  11.500  plain\n"
		"        2  12.500  last column never padded\n";
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	assert_string_equal(s, expected);
	free(s);
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_TEXT, b.f, "owd", "owd/1"), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(mp_record_begin(w, "packet"), 0);
		assert_int_equal(mp_put_u64(w, "seq", "%" PRIu64, i == 1 ? 1000000 : i), 0);
		assert_int_equal(mp_put_f64(w, "owd_ms", "%.3f", 10.5 + i), 0);
		assert_int_equal(mp_put_str(w, "tag", "%s",
					    i == 2 ? "last column never padded" : "plain"), 0);
		assert_int_equal(mp_record_end(w), 0);
	}
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_string_equal(b.data, widened);
	free(b.data);
}

static void test_json(void **state)
{
	char *s = render(MP_FMT_JSON, true, true);

	(void)state;
	if (!have("jq"))
		skip();
	expect_cmd("jq -c '[.tool, .version, .schema, .sent, .offset_ns, .synced, .hidden,"
		   " .forward.lost, .forward.owd_ms.min, .forward.owd_ms.mean]' %s",
		   s, "[\"owd\",\"" MP_VERSION "\",\"owd/1\",1000,-1500,true,7,2,30.125,null]\n");
	expect_cmd("jq -r '.note' %s", s, "a,b \"q\" \\ tab\t nl\n end\n");
	expect_cmd("jq -c '[.hops[].addr, .ports, (.packets | length), .packets[1].fwd.owd_ms,"
		   " .packets[1].tag == \"a,b \\\"q\\\" \\\\ tab\\t nl\\n end\"]' %s",
		   s, "[\"10.0.0.1\",\"fd00::1\",[862,5121],3,11.5,true]\n");
	/* time: UTC RFC 3339 */
	expect_cmd("jq -r '.time | test(\"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$\")' %s",
		   s, "true\n");
	free(s);
}

static void test_ndjson(void **state)
{
	char *s = render(MP_FMT_NDJSON, true, true);

	(void)state;
	if (!have("jq"))
		skip();
	expect_cmd("jq -c '[.type, .tool, .schema, .seq, .fwd.owd_ms]' %s", s,
		   "[\"packet\",\"owd\",\"owd/1\",0,10.5]\n"
		   "[\"packet\",\"owd\",\"owd/1\",1,11.5]\n"
		   "[\"packet\",\"owd\",\"owd/1\",2,12.5]\n"
		   "[\"summary\",\"owd\",\"owd/1\",null,null]\n");
	/* one record per line */
	int lines = 0;

	for (const char *p = s; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 4);
	free(s);
}

static const char csv_reader[] =
	"python3 -c 'import csv,json,sys; "
	"print(json.dumps(list(csv.reader(open(sys.argv[1], newline=\"\")))))' %s";

static void test_csv_records(void **state)
{
	char *s = render(MP_FMT_CSV, true, true);

	(void)state;
	if (!have("python3"))
		skip();
	/* records are the table; the summary is left out of a csv stream */
	expect_cmd(csv_reader, s,
		   "[[\"seq\", \"fwd.owd_ms\", \"tag\"], [\"0\", \"10.5\", \"plain\"], "
		   "[\"1\", \"11.5\", \"a,b \\\"q\\\" \\\\ tab\\t nl\\n end\"], "
		   "[\"2\", \"12.5\", \"plain\"]]\n");
	free(s);
}

static void test_csv_doc(void **state)
{
	char *s = render(MP_FMT_CSV, false, true);

	(void)state;
	if (!have("python3"))
		skip();
	expect_cmd(csv_reader, s,
		   "[[\"target\", \"sent\", \"offset_ns\", \"synced\", \"hidden\", "
		   "\"forward.lost\", \"forward.owd_ms.min\", \"forward.owd_ms.mean\", "
		   "\"ports\", \"note\"], [\"10.0.0.2\", \"1000\", \"-1500\", \"true\", \"7\", "
		   "\"2\", \"30.125\", \"\", \"862 5121\", "
		   "\"a,b \\\"q\\\" \\\\ tab\\t nl\\n end\"]]\n");
	free(s);
}

static void test_csv_table_choice(void **state)
{
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_CSV, b.f, "owd", "owd/1"), 0);
	assert_int_equal(mp_writer_set_table(w, "packet"), 0);
	write_records(w, "interval", 2);
	write_records(w, "packet", 1);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_string_equal(b.data, "seq,fwd.owd_ms,tag\n0,10.5,plain\n");
	free(b.data);
}

static void test_prom(void **state)
{
	char *s = render(MP_FMT_PROM, true, true);
	const char *expected =
		"# HELP meshperf_owd_sent sent\n"
		"# TYPE meshperf_owd_sent gauge\n"
		"meshperf_owd_sent{target=\"10.0.0.2\"} 1000\n"
		"# HELP meshperf_owd_offset_seconds offset_ns\n"
		"# TYPE meshperf_owd_offset_seconds gauge\n"
		"meshperf_owd_offset_seconds{target=\"10.0.0.2\"} -1.5e-06\n"
		"# HELP meshperf_owd_synced synced\n"
		"# TYPE meshperf_owd_synced gauge\n"
		"meshperf_owd_synced{target=\"10.0.0.2\"} 1\n"
		"# HELP meshperf_owd_hidden hidden\n"
		"# TYPE meshperf_owd_hidden gauge\n"
		"meshperf_owd_hidden{target=\"10.0.0.2\"} 7\n"
		"# HELP meshperf_owd_forward_lost forward.lost\n"
		"# TYPE meshperf_owd_forward_lost gauge\n"
		"meshperf_owd_forward_lost{target=\"10.0.0.2\"} 2\n"
		"# HELP meshperf_owd_forward_owd_min_seconds forward.owd_ms.min\n"
		"# TYPE meshperf_owd_forward_owd_min_seconds gauge\n"
		"meshperf_owd_forward_owd_min_seconds{target=\"10.0.0.2\"} 0.030125\n"
		"# HELP meshperf_owd_hops_ttl hops.ttl\n"
		"# TYPE meshperf_owd_hops_ttl gauge\n"
		"meshperf_owd_hops_ttl{target=\"10.0.0.2\",addr=\"10.0.0.1\"} 1\n"
		"meshperf_owd_hops_ttl{target=\"10.0.0.2\",addr=\"fd00::1\"} 2\n"
		"# HELP meshperf_owd_hops_loss_ratio hops.loss_pct\n"
		"# TYPE meshperf_owd_hops_loss_ratio gauge\n"
		"meshperf_owd_hops_loss_ratio{target=\"10.0.0.2\",addr=\"10.0.0.1\"} 0.125\n"
		"meshperf_owd_hops_loss_ratio{target=\"10.0.0.2\",addr=\"fd00::1\"} 0.25\n";
	int status;
	char *out;

	(void)state;
	assert_string_equal(s, expected);
	if (!have("promtool"))
		skip();
	out = run_on("promtool check metrics < %s 2>&1", s, &status);
	if (status != 0)
		print_error("promtool: %s\n", out);
	assert_int_equal(status, 0);
	free(out);
	free(s);
}

static void test_prom_label_escaping(void **state)
{
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_PROM, b.f, "pathping", "pathping/1"), 0);
	assert_int_equal(mp_doc_begin(w, NULL), 0);
	assert_int_equal(mp_put_label(w, "name", "%s", "a\"b\\c\nd"), 0);
	assert_int_equal(mp_put_f64(w, "rate_bps", "%.0f", 1.5e9), 0);
	assert_int_equal(mp_doc_end(w), 0);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_string_equal(b.data,
			    "# HELP meshperf_pathping_rate_bytes_per_second rate_bps\n"
			    "# TYPE meshperf_pathping_rate_bytes_per_second gauge\n"
			    "meshperf_pathping_rate_bytes_per_second{name=\"a\\\"b\\\\c\\nd\"} "
			    "187500000\n");
	free(b.data);
}

/* A number label (mp_put_u64_label): a number in json, a label in prom
 * that tells the array's elements apart, never a sample of its own. */
static void test_prom_number_label(void **state)
{
	struct mp_writer *w = NULL;
	struct buf b;
	unsigned i;

	(void)state;
	for (i = 0; i < 2; i++) {
		buf_open(&b);
		assert_int_equal(mp_writer_new(&w, i ? MP_FMT_JSON : MP_FMT_PROM, b.f, "pathping",
					       "pathping/3"), 0);
		assert_int_equal(mp_doc_begin(w, NULL), 0);
		assert_int_equal(mp_arr_begin(w, "hops", NULL), 0);
		for (uint64_t hop = 1; hop <= 2; hop++) {
			assert_int_equal(mp_obj_begin(w, NULL, NULL), 0);
			assert_int_equal(mp_put_u64_label(w, "hop", "%" PRIu64, hop), 0);
			assert_int_equal(mp_put_u64(w, "sent", "%" PRIu64, 10 * hop), 0);
			assert_int_equal(mp_obj_end(w), 0);
		}
		assert_int_equal(mp_arr_end(w), 0);
		assert_int_equal(mp_doc_end(w), 0);
		assert_int_equal(mp_writer_close(w), 0);
		buf_close(&b);
		if (i)
			assert_non_null(strstr(b.data, "\"hop\": 2,\n"));
		else
			assert_string_equal(b.data, "# HELP meshperf_pathping_hops_sent hops.sent\n"
					    "# TYPE meshperf_pathping_hops_sent gauge\n"
					    "meshperf_pathping_hops_sent{hop=\"1\"} 10\n"
					    "meshperf_pathping_hops_sent{hop=\"2\"} 20\n");
		free(b.data);
	}
}

/*
 * Quantiles become one summary named after their object; HELP comes from the
 * tool's table ("*" for one key, a statistic's name before its object's
 * words), else the key path; text-only nodes are not exported.
 */
static void test_prom_summary_help(void **state)
{
	static const struct mp_prom_help help[] = {
		{ "*.rtt_ms", "round-trip time" },
		{ "fwd.lost", "probes lost on the way out" },
		{ NULL, NULL },
	};
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_PROM, b.f, "owd", "owd/2"), 0);
	mp_writer_prom_help(w, help);
	assert_int_equal(mp_doc_begin(w, NULL), 0);
	assert_int_equal(mp_put_label(w, "dst", "%s", "h"), 0);
	mp_writer_audience(w, MP_FOR_TEXT);
	assert_int_equal(mp_put_u64(w, "shown", "%" PRIu64, 1), 0);
	mp_writer_audience(w, MP_FOR_ALL);
	assert_int_equal(mp_obj_begin(w, "fwd", NULL), 0);
	assert_int_equal(mp_put_u64(w, "lost", "%" PRIu64, 3), 0);
	assert_int_equal(mp_put_u64(w, "late", "%" PRIu64, 4), 0);
	assert_int_equal(mp_obj_begin(w, "rtt_ms", NULL), 0);
	assert_int_equal(mp_put_f64(w, "min", "%.3f", 10.0), 0);
	assert_int_equal(mp_put_f64(w, "median", "%.3f", 20.0), 0);
	assert_int_equal(mp_put_f64(w, "p95", "%.3f", 30.0), 0);
	assert_int_equal(mp_put_f64(w, "p999", "%.3f", 40.0), 0);
	assert_int_equal(mp_put_f64(w, "stddev", "%.3f", 5.0), 0);
	assert_int_equal(mp_obj_end(w), 0);
	assert_int_equal(mp_obj_end(w), 0);
	assert_int_equal(mp_doc_end(w), 0);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_string_equal(b.data,
			    "# HELP meshperf_owd_fwd_lost probes lost on the way out\n"
			    "# TYPE meshperf_owd_fwd_lost gauge\n"
			    "meshperf_owd_fwd_lost{dst=\"h\"} 3\n"
			    "# HELP meshperf_owd_fwd_late fwd.late\n"
			    "# TYPE meshperf_owd_fwd_late gauge\n"
			    "meshperf_owd_fwd_late{dst=\"h\"} 4\n"
			    "# HELP meshperf_owd_fwd_rtt_min_seconds smallest round-trip time\n"
			    "# TYPE meshperf_owd_fwd_rtt_min_seconds gauge\n"
			    "meshperf_owd_fwd_rtt_min_seconds{dst=\"h\"} 0.01\n"
			    "# HELP meshperf_owd_fwd_rtt_seconds round-trip time\n"
			    "# TYPE meshperf_owd_fwd_rtt_seconds summary\n"
			    "meshperf_owd_fwd_rtt_seconds{dst=\"h\",quantile=\"0.5\"} 0.02\n"
			    "meshperf_owd_fwd_rtt_seconds{dst=\"h\",quantile=\"0.95\"} 0.03\n"
			    "meshperf_owd_fwd_rtt_seconds{dst=\"h\",quantile=\"0.999\"} 0.04\n"
			    "# HELP meshperf_owd_fwd_rtt_stddev_seconds standard deviation of the "
			    "round-trip time\n"
			    "# TYPE meshperf_owd_fwd_rtt_stddev_seconds gauge\n"
			    "meshperf_owd_fwd_rtt_stddev_seconds{dst=\"h\"} 0.005\n");
	free(b.data);
}

/*
 * Colour (--color=always): the title and a table's header bold, an alert
 * cell red around its padded text; never in a machine format; never on a
 * file with --color=auto (NO_COLOR aside, a buffer is no terminal).
 */
static void test_text_color(void **state)
{
	static const char *const want =
		"\033[1mt\033[0m\n"
		"ok, \033[31mbad\033[0m\n"
		"\033[1mhost\033[0m  \033[1mloss\033[0m\n"
		"a       \033[31m5%\033[0m\n"
		"b       0%\n";
	enum mp_format fmts[] = { MP_FMT_TEXT, MP_FMT_NDJSON };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct mp_writer *w = NULL;
		struct buf b;

		assert_int_equal(mp_opt_color(i < 2 ? "always" : "auto"), 0);
		buf_open(&b);
		assert_int_equal(mp_writer_new(&w, fmts[i % 2 ? 1 : 0], b.f, "x", "x/1"), 0);
		assert_int_equal(mp_doc_begin(w, "t"), 0);
		mp_writer_audience(w, MP_FOR_TEXT);
		mp_writer_text_left(w, 1);
		assert_int_equal(mp_arr_begin(w, "rows", ""), 0);
		for (int r = 0; r < 2; r++) {
			assert_int_equal(mp_obj_begin(w, NULL, NULL), 0);
			assert_int_equal(mp_put_str(w, "host", "%s", r ? "b" : "a"), 0);
			mp_writer_alert(w, r == 0);
			assert_int_equal(mp_put_str(w, "loss", "%s", r ? "0%" : "5%"), 0);
			mp_writer_alert(w, false);
			assert_int_equal(mp_obj_end(w), 0);
		}
		assert_int_equal(mp_arr_end(w), 0);
		mp_writer_audience(w, MP_FOR_MACHINES);
		assert_int_equal(mp_arr_begin(w, "host", NULL), 0);
		assert_int_equal(mp_put_str(w, NULL, "%s", "a"), 0);
		assert_int_equal(mp_put_str(w, NULL, "%s", "b"), 0);
		assert_int_equal(mp_arr_end(w), 0);
		mp_writer_audience(w, MP_FOR_TEXT);
		assert_int_equal(mp_put_str(w, "ok", "%s", "ok"), 0);
		mp_writer_alert(w, true);
		assert_int_equal(mp_put_str(w, "bad", "%s", "bad"), 0);
		mp_writer_alert(w, false);
		mp_writer_audience(w, MP_FOR_ALL);
		assert_int_equal(mp_doc_end(w), 0);
		assert_int_equal(mp_writer_close(w), 0);
		buf_close(&b);
		if (i == 0)
			assert_string_equal(b.data, want);
		else
			assert_null(strchr(b.data, '\033'));
		free(b.data);
	}
	assert_int_equal(mp_opt_color("never"), 0);
	assert_int_equal(mp_opt_color("sometimes"), -EINVAL);
	assert_int_equal(mp_opt_color(NULL), 0);	/* the bare --color */
	assert_true(mp_color_for(stdout));
	assert_int_equal(mp_opt_color("auto"), 0);
}

/* Streamed records alone, and a second record type kept for the close. */
static void test_json_streamed(void **state)
{
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	if (!have("jq"))
		skip();
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_JSON, b.f, "perfc", "perfc/1"), 0);
	write_records(w, "route", 3);
	write_records(w, "change", 2);
	write_records(w, "route", 1);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	expect_cmd("jq -c '[.tool, .schema, [.routes[].seq], [.changes[].seq], (keys | length)]' %s",
		   b.data, "[\"perfc\",\"perfc/1\",[0,1,2,0],[0,1],6]\n");
	free(b.data);

	/* records only: the array closes the document */
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_JSON, b.f, "perfc", "perfc/1"), 0);
	write_records(w, "route", 2);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	expect_cmd("jq -c '[.routes[1].tag, (keys | length)]' %s", b.data,
		   "[\"a,b \\\"q\\\" \\\\ tab\\t nl\\n end\",5]\n");
	free(b.data);
}

/*
 * Csv doubles keep what the unit says was measured and no more: _ms to the
 * ns (6 decimals), _us 3, _s 9, trailing zeros dropped; _ns as %.15g;
 * anything else 6 significant digits, written out in full where it can be.
 */
static void test_csv_doubles(void **state)
{
	static const struct {
		const char *key;
		double v;
	} f[] = {
		{ "rtt_ms", 20.1 }, { "a_ms", 20.100000000000001 }, { "b_ms", 3.0 },
		{ "c_ms", 0.0000004 }, { "d_ms", -0.0000001 }, { "e_ms", 1.0000005 },
		{ "owd_us", 1.23456789 }, { "dur_s", 1.5 }, { "t_s", 0.1234567891234 },
		{ "x_ns", 1234.5 }, { "ratio", 0.123456789 }, { "rate_bps", 9876543210.0 },
		{ "loss_pct", 0 }, { "big", 1e20 }, { "tiny", 1e-9 }, { "rate_pps", 123456.7 },
		{ "frac", 0.000123456789 }, { "gone_ms", NAN }, { "neg", -2.5 },
	};
	static const char expected[] =
		"rtt_ms,a_ms,b_ms,c_ms,d_ms,e_ms,owd_us,dur_s,t_s,x_ns,ratio,rate_bps,"
		"loss_pct,big,tiny,rate_pps,frac,gone_ms,neg\n"
		"20.1,20.1,3,0,0,1.000001,1.235,1.5,0.123456789,1234.5,0.123457,9876540000,"
		"0,1e+20,1e-09,123457,0.000123457,,-2.5\n";
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_CSV, b.f, "t", "t/1"), 0);
	assert_int_equal(mp_record_begin(w, "x"), 0);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		assert_int_equal(mp_put_f64(w, f[i].key, "%g", f[i].v), 0);
	assert_int_equal(mp_record_end(w), 0);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_string_equal(b.data, expected);
	free(b.data);

	/* a statistic takes the unit of the object it is in (owd_ms.mean) */
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_CSV, b.f, "t", "t/1"), 0);
	assert_int_equal(mp_doc_begin(w, NULL), 0);
	assert_int_equal(mp_obj_begin(w, "fwd", NULL), 0);
	assert_int_equal(mp_obj_begin(w, "owd_ms", NULL), 0);
	assert_int_equal(mp_put_f64(w, "mean", "%g", 12.3456789), 0);
	assert_int_equal(mp_put_f64(w, "max", "%g", 1234.567891), 0);
	assert_int_equal(mp_obj_end(w), 0);
	assert_int_equal(mp_put_f64(w, "ratio", "%g", 0.123456789), 0);
	assert_int_equal(mp_obj_end(w), 0);
	assert_int_equal(mp_doc_end(w), 0);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_string_equal(b.data, "fwd.owd_ms.mean,fwd.owd_ms.max,fwd.ratio\n"
				    "12.345679,1234.567891,0.123457\n");
	free(b.data);
}

/* A string that is not UTF-8 (a Latin-1 table name) is written with U+FFFD
 * for each bad byte, in a streamed record and in the document alike. */
static void test_json_bad_utf8(void **state)
{
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_JSON, b.f, "t", "t/1"), 0);
	assert_int_equal(mp_record_begin(w, "rec"), 0);
	assert_int_equal(mp_put_str(w, "table", "%s", "tabl\xe9"), 0);
	assert_int_equal(mp_record_end(w), 0);
	assert_int_equal(mp_doc_begin(w, NULL), 0);
	assert_int_equal(mp_put_str(w, "name", "%s", "x\xff\xc3\xa9"), 0);
	assert_int_equal(mp_doc_end(w), 0);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_non_null(strstr(b.data, "\"tabl\\uFFFD\""));
	assert_non_null(strstr(b.data, "\"x\\uFFFD\\u00E9\""));
	free(b.data);
}

/* json records are serialized by hand: byte for byte what jansson writes. */
static void test_json_like_jansson(void **state)
{
	static const char *const strs[] = {
		"plain", nasty, "\x01\x1f\b\f\r \x7f /", "caf\xc3\xa9 \xe2\x82\xac", "\xf0\x9f\x98\x80",
		"",
	};
	static const double reals[] = { 0.1, 3.0, 1e20, 1e-5, -2.5e-300, 1.5, 123456789012345678.0 };
	struct mp_writer *w = NULL;
	json_t *o = json_object(), *a = json_array();
	char *want, *line;
	struct buf b;

	(void)state;
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_JSON, b.f, "t", "t/1"), 0);
	assert_int_equal(mp_record_begin(w, "rec"), 0);
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		char key[16];

		snprintf(key, sizeof(key), "s%zu", i);
		assert_int_equal(mp_put_str(w, key, "%s", strs[i]), 0);
		json_object_set_new(o, key, json_string(strs[i]));
	}
	assert_int_equal(mp_arr_begin(w, "reals", NULL), 0);
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
		assert_int_equal(mp_put_f64(w, NULL, "%g", reals[i]), 0);
		json_array_append_new(a, json_real(reals[i]));
	}
	assert_int_equal(mp_arr_end(w), 0);
	json_object_set_new(o, "reals", a);
	assert_int_equal(mp_put_u64(w, "huge", "%" PRIu64, UINT64_MAX), 0);
	json_object_set_new(o, "huge", json_real((double)UINT64_MAX));
	assert_int_equal(mp_put_i64(w, "neg", "%" PRId64, INT64_MIN), 0);
	json_object_set_new(o, "neg", json_integer(INT64_MIN));
	assert_int_equal(mp_put_bool(w, "yes", "%s", true), 0);
	json_object_set_new(o, "yes", json_true());
	assert_int_equal(mp_put_f64(w, "nan", "%g", NAN), 0);
	json_object_set_new(o, "nan", json_null());
	mp_writer_audience(w, MP_FOR_TEXT);
	assert_int_equal(mp_put_str(w, "text_only", "%s", "x"), 0);
	mp_writer_audience(w, MP_FOR_ALL);
	assert_int_equal(mp_obj_begin(w, "o", NULL), 0);
	assert_int_equal(mp_arr_begin(w, "e", NULL), 0);
	assert_int_equal(mp_arr_end(w), 0);
	assert_int_equal(mp_obj_end(w), 0);
	json_object_set_new(o, "o", json_pack("{s:[]}", "e"));
	assert_int_equal(mp_record_end(w), 0);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	want = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(15));
	line = strchr(b.data, '\n');
	assert_non_null(line);
	line++;
	*strchr(line, '\n') = '\0';
	assert_string_equal(line, want);
	free(want);
	json_decref(o);
	free(b.data);

	/* invalid UTF-8 (jansson refuses it): each bad byte as U+FFFD */
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_NDJSON, b.f, "t", "t/1"), 0);
	assert_int_equal(mp_record_begin(w, "rec"), 0);
	assert_int_equal(mp_put_str(w, "s", "%s", "a\xff" "b\xc3"), 0);
	assert_int_equal(mp_record_end(w), 0);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_non_null(strstr(b.data, "\"s\":\"a\\uFFFDb\\uFFFD\"}\n"));
	free(b.data);
}

static void write_route(struct mp_writer *w, const char *dst, const char *gw, const char *src)
{
	assert_int_equal(mp_record_begin(w, "route"), 0);
	assert_int_equal(mp_put_str(w, "dst", "%s", dst), 0);
	assert_int_equal(mp_put_str(w, "gateway", "%s", gw), 0);
	assert_int_equal(mp_put_str(w, "flags", "%-6s", ""), 0);
	assert_int_equal(mp_put_u64(w, "metric", "%" PRIu64, 5), 0);
	assert_int_equal(mp_put_str(w, "prefsrc", "%s", src), 0);
	assert_int_equal(mp_record_end(w), 0);
}

/*
 * A batch writer sizes a table from its first rows and leaves out the
 * columns empty in all of them (blank, "-" or no value); a later row with a
 * value in one brings it back under a new header, in step with the rows.
 */
static void test_text_batch_columns(void **state)
{
	struct mp_writer *w = NULL;
	struct buf b;
	char *p;
	int headers = 0;

	(void)state;
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_TEXT, b.f, "t", "t/1"), 0);
	mp_writer_set_live(w, false);
	write_route(w, "10.0.0.0/8", "", "");
	write_route(w, "2001:db8:1234:5678::/64", "fe80::1", "-");
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_string_equal(b.data, "dst                      gateway  metric\n"
				    "10.0.0.0/8               -             5\n"
				    "2001:db8:1234:5678::/64  fe80::1       5\n");
	free(b.data);

	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_TEXT, b.f, "t", "t/1"), 0);
	mp_writer_set_live(w, false);
	for (int i = 0; i < 1100; i++)
		write_route(w, "10.0.0.0/8", "10.0.0.1", i == 1050 ? "10.0.0.2" : "");
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	for (p = b.data; (p = strstr(p, "dst")); p++)
		headers++;
	assert_int_equal(headers, 2);
	p = strstr(b.data + 1, "dst");
	assert_non_null(strstr(p, "dst         gateway   metric  prefsrc\n"
				  "10.0.0.0/8  10.0.0.1       5  10.0.0.2\n"
				  "10.0.0.0/8  10.0.0.1       5  -\n"));
	free(b.data);
}

/* After an error a batch writer still hands on the whole records before it,
 * and none of the record that failed. */
static void test_batch_error(void **state)
{
	static const enum mp_format fmts[] = { MP_FMT_TEXT, MP_FMT_NDJSON, MP_FMT_JSON };
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		buf_open(&b);
		assert_int_equal(mp_writer_new(&w, fmts[i], b.f, "t", "t/1"), 0);
		mp_writer_set_live(w, false);
		for (int k = 0; k < 2; k++) {
			assert_int_equal(mp_record_begin(w, "row"), 0);
			assert_int_equal(mp_put_str(w, "name", "%s", k ? "second" : "first"), 0);
			assert_int_equal(mp_record_end(w), 0);
		}
		assert_int_equal(mp_record_begin(w, "row"), 0);
		assert_int_equal(mp_put_str(w, "name", "%s", "broken"), 0);
		assert_int_equal(mp_obj_end(w), -EINVAL);
		assert_int_equal(mp_writer_close(w), -EINVAL);
		buf_close(&b);
		assert_non_null(strstr(b.data, "first"));
		assert_non_null(strstr(b.data, "second"));
		assert_null(strstr(b.data, "broken"));
		free(b.data);
	}
}

/* A live writer flushes each record; a batch writer leaves it to stdio. */
static void test_live(void **state)
{
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	for (int live = 0; live <= 1; live++) {
		buf_open(&b);
		assert_int_equal(mp_writer_new(&w, MP_FMT_NDJSON, b.f, "t", "t/1"), 0);
		if (!live)
			mp_writer_set_live(w, false);
		write_records(w, "r", 1);
		/* open_memstream updates len only when the stream is flushed */
		if (live)
			assert_true(b.len > 0);
		else
			assert_int_equal(b.len, 0);
		assert_int_equal(mp_writer_close(w), 0);
		assert_true(b.len > 0);
		buf_close(&b);
		free(b.data);
	}
}

/* Two targets' summaries in one writer (mp_writer_set_multi). */
static char *render_multi(enum mp_format fmt)
{
	static const char *const dst[] = { "a.example", "10.0.0.2" };
	struct mp_writer *w = NULL;
	struct buf b;

	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, fmt, b.f, "owd", "owd/1"), 0);
	assert_int_equal(mp_writer_set_multi(w, "targets"), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(mp_doc_begin(w, NULL), 0);
		assert_int_equal(mp_put_label(w, "dst", "dst %s", dst[i]), 0);
		assert_int_equal(mp_put_f64(w, "rtt_ms", "rtt %.1f ms", 1.5 + i), 0);
		assert_int_equal(mp_doc_end(w), 0);
	}
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	return b.data;
}

static void test_multi(void **state)
{
	char *s;

	(void)state;
	s = render_multi(MP_FMT_TEXT);
	assert_string_equal(s, "dst a.example, rtt 1.5 ms\ndst 10.0.0.2, rtt 2.5 ms\n");
	free(s);
	s = render_multi(MP_FMT_CSV);
	assert_string_equal(s, "dst,rtt_ms\na.example,1.5\n10.0.0.2,2.5\n");
	free(s);
	s = render_multi(MP_FMT_PROM);
	assert_string_equal(s, "# HELP meshperf_owd_rtt_seconds rtt_ms\n"
			       "# TYPE meshperf_owd_rtt_seconds gauge\n"
			       "meshperf_owd_rtt_seconds{dst=\"a.example\"} 0.0015\n"
			       "meshperf_owd_rtt_seconds{dst=\"10.0.0.2\"} 0.0025\n");
	free(s);
	s = render_multi(MP_FMT_NDJSON);
	assert_non_null(strstr(s, "\"type\":\"summary\",\"dst\":\"a.example\",\"rtt_ms\":1.5}\n"));
	assert_non_null(strstr(s, "\"type\":\"summary\",\"dst\":\"10.0.0.2\",\"rtt_ms\":2.5}\n"));
	free(s);
	s = render_multi(MP_FMT_JSON);
	expect_cmd("jq -c .targets %s", s,
		   "[{\"dst\":\"a.example\",\"rtt_ms\":1.5},{\"dst\":\"10.0.0.2\",\"rtt_ms\":2.5}]\n");
	free(s);
}

/* A text-only layout: shown in text, absent from every other format. */
static char *render_text_only(enum mp_format fmt)
{
	struct mp_writer *w = NULL;
	struct buf b;

	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, fmt, b.f, "owd", "owd/1"), 0);
	assert_int_equal(mp_doc_begin(w, "owd to h"), 0);
	assert_int_equal(mp_put_f64_notext(w, "rtt_ms", 1.5), 0);
	mp_writer_audience(w, MP_FOR_TEXT);
	assert_int_equal(mp_arr_begin(w, "table", ""), 0);
	assert_int_equal(mp_obj_begin(w, NULL, NULL), 0);
	assert_int_equal(mp_put_str(w, "what", "%s", "RTT"), 0);
	assert_int_equal(mp_put_str(w, "min", "%s", "1.5ms"), 0);
	assert_int_equal(mp_obj_end(w), 0);
	assert_int_equal(mp_arr_end(w), 0);
	mp_writer_audience(w, MP_FOR_ALL);
	assert_int_equal(mp_put_u64(w, "sent", "sent %" PRIu64, 3), 0);
	assert_int_equal(mp_doc_end(w), 0);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	return b.data;
}

static void test_text_only(void **state)
{
	char *s;

	(void)state;
	s = render_text_only(MP_FMT_TEXT);
	assert_non_null(strstr(s, "RTT"));
	assert_non_null(strstr(s, "1.5ms"));
	assert_null(strstr(s, "rtt_ms"));
	free(s);
	s = render_text_only(MP_FMT_JSON);
	expect_cmd("jq -c '[.rtt_ms, .sent, .table]' %s", s, "[1.5,3,null]\n");
	free(s);
	s = render_text_only(MP_FMT_CSV);
	assert_string_equal(s, "rtt_ms,sent\n1.5,3\n");
	free(s);
	s = render_text_only(MP_FMT_PROM);
	assert_null(strstr(s, "min"));
	assert_non_null(strstr(s, "meshperf_owd_rtt_seconds 0.0015"));
	free(s);
}

/* Figures with their own units: 3 significant digits, the unit that fits. */
static void test_fmt_units(void **state)
{
	static const struct { double v; const char *ns; } t[] = {
		{ 0, "0ns" }, { 782, "782ns" }, { 999.4, "999ns" }, { 999.6, "1.00\xc2\xb5s" },
		{ 4530, "4.53\xc2\xb5s" }, { -66000, "-66.0\xc2\xb5s" }, { 35120000, "35.1ms" },
		{ 1.2e9, "1.20s" }, { 125e9, "125s" },
	};
	char b[MP_FMT_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		assert_string_equal(mp_fmt_ns(b, sizeof(b), t[i].v), t[i].ns);
	assert_string_equal(mp_fmt_ns(b, sizeof(b), NAN), "-");
	assert_string_equal(mp_fmt_bps(b, sizeof(b), 9.87e6), "9.87 Mbit/s");
	assert_string_equal(mp_fmt_bps(b, sizeof(b), 989000), "989 kbit/s");
	assert_string_equal(mp_fmt_bps(b, sizeof(b), 512), "512 bit/s");
	assert_string_equal(mp_fmt_pps(b, sizeof(b), 5.4e6), "5.40 Mpps");
	assert_string_equal(mp_fmt_pps(b, sizeof(b), 85), "85 pps");
}

/* Two targets' units, as a run over several targets writes them: each its
 * records (labelled with its dst) and its document; the first sets the
 * csv table. */
static void write_targets(struct mp_writer *w, int first, int n)
{
	static const char *const dst[] = { "a.example", "10.0.0.2" };

	for (int i = first; i < first + n; i++) {
		if (i == 0)
			assert_int_equal(mp_writer_set_table(w, "packet"), 0);
		assert_int_equal(mp_writer_set_label(w, "dst", dst[i]), 0);
		write_records(w, "packet", 2);
		assert_int_equal(mp_writer_set_label(w, "dst", NULL), 0);
		write_doc(w);
	}
}

/* The "time" values (when a unit was rendered) blanked. */
static char *no_time(char *s)
{
	for (char *p = s; (p = strstr(p, "\"time\":\"")); p += 8)
		for (char *q = p + 8; *q && *q != '"'; q++)
			*q = 'T';
	return s;
}

/* Written in two child writers (mp_writer_forward), replayed in a third:
 * the same output, in every format, as written directly. */
static void test_forward(void **state)
{
	static const enum mp_format fmts[] = { MP_FMT_TEXT, MP_FMT_CSV, MP_FMT_JSON,
					       MP_FMT_NDJSON, MP_FMT_PROM };
	struct mp_writer *w;
	struct buf direct, replayed;
	FILE *null = fopen("/dev/null", "w");

	(void)state;
	assert_non_null(null);
	for (size_t k = 0; k < sizeof(fmts) / sizeof(fmts[0]); k++) {
		int fd[2];

		buf_open(&direct);
		assert_int_equal(mp_writer_new(&w, fmts[k], direct.f, "owd", "owd/1"), 0);
		assert_int_equal(mp_writer_set_multi(w, "targets"), 0);
		write_targets(w, 0, 2);
		assert_int_equal(mp_writer_close(w), 0);
		buf_close(&direct);

		for (int i = 0; i < 2; i++) {
			fd[i] = memfd_create("test_out", MFD_CLOEXEC);
			assert_true(fd[i] >= 0);
			assert_int_equal(mp_writer_new(&w, fmts[k], null, "owd", "owd/1"), 0);
			assert_int_equal(mp_writer_set_multi(w, "targets"), 0);
			assert_int_equal(mp_writer_forward(w, fd[i]), 0);
			write_targets(w, i, 1);
			assert_int_equal(mp_writer_close(w), 0);
		}
		assert_int_equal(ftell(null), 0);	/* a forwarding writer writes nothing */
		buf_open(&replayed);
		assert_int_equal(mp_writer_new(&w, fmts[k], replayed.f, "owd", "owd/1"), 0);
		assert_int_equal(mp_writer_set_multi(w, "targets"), 0);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(mp_writer_replay(w, fd[i]), 0);
			close(fd[i]);
		}
		assert_int_equal(mp_writer_close(w), 0);
		buf_close(&replayed);
		assert_true(direct.len > 100);
		assert_string_equal(no_time(replayed.data), no_time(direct.data));
		free(direct.data);
		free(replayed.data);
	}
	fclose(null);
}

/* Every prefix of a unit stream replays (at a unit's end) or is refused
 * (-EBADMSG), and no unit is written in part; garbage is refused. */
static void test_replay_bad(void **state)
{
	struct mp_writer *w;
	struct stat st;
	char *full = NULL;
	struct buf b;
	int fd = memfd_create("test_out", MFD_CLOEXEC), cut;
	FILE *null = fopen("/dev/null", "w");

	(void)state;
	assert_true(fd >= 0);
	assert_non_null(null);
	assert_int_equal(mp_writer_new(&w, MP_FMT_NDJSON, null, "owd", "owd/1"), 0);
	assert_int_equal(mp_writer_forward(w, fd), 0);
	write_targets(w, 0, 1);
	assert_int_equal(mp_writer_close(w), 0);
	assert_int_equal(fstat(fd, &st), 0);
	full = malloc((size_t)st.st_size);
	assert_non_null(full);
	assert_int_equal(pread(fd, full, (size_t)st.st_size, 0), st.st_size);
	close(fd);
	for (off_t n = 0; n <= st.st_size; n++) {
		int r;

		cut = memfd_create("test_out", MFD_CLOEXEC);
		assert_int_equal(write(cut, full, (size_t)n), n);
		buf_open(&b);
		assert_int_equal(mp_writer_new(&w, MP_FMT_NDJSON, b.f, "owd", "owd/1"), 0);
		assert_int_equal(mp_writer_set_multi(w, "targets"), 0);
		r = mp_writer_replay(w, cut);
		assert_true(r == 0 || r == -EBADMSG);
		if (n == 0 || n == st.st_size)
			assert_int_equal(r, 0);
		if (r == 0)
			assert_int_equal(mp_writer_close(w), 0);
		else
			mp_writer_close(w);
		buf_close(&b);
		/* whole lines only: 3 units at most (2 packets, 1 summary) */
		assert_true(b.len == 0 || b.data[b.len - 1] == '\n');
		free(b.data);
		close(cut);
	}
	free(full);
	cut = memfd_create("test_out", MFD_CLOEXEC);
	assert_int_equal(write(cut, "Zgarbage", 8), 8);
	assert_int_equal(mp_writer_new(&w, MP_FMT_NDJSON, null, "owd", "owd/1"), 0);
	assert_int_equal(mp_writer_replay(w, cut), -EBADMSG);
	mp_writer_close(w);
	close(cut);
	fclose(null);
}

/* --textfile: in any format, the summaries' gauges, job-labelled, to a file. */
static void test_textfile(void **state)
{
	char dir[] = "/tmp/test_out_tf.XXXXXX", path[64], *data = NULL;
	struct mp_writer *w = NULL;
	size_t len = 0;
	struct buf b;
	FILE *f;
	int status;
	char *out;

	(void)state;
	assert_non_null(mkdtemp(dir));
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_JSON, b.f, "owd", "owd/1"), 0);
	mp_writer_keep_prom(w);
	assert_int_equal(mp_doc_begin(w, NULL), 0);
	assert_int_equal(mp_put_label(w, "dst", "dst %s", "h1"), 0);
	assert_int_equal(mp_put_f64(w, "rtt_ms", "rtt %.1f ms", 2.0), 0);
	assert_int_equal(mp_doc_end(w), 0);
	assert_int_equal(mp_writer_textfile(w, dir, "bad job", 0), -EINVAL);
	assert_int_equal(mp_writer_textfile(w, dir, "lab-1", 1), 0);
	assert_int_equal(mp_writer_close(w), 0);
	buf_close(&b);
	assert_non_null(strstr(b.data, "\"rtt_ms\": 2"));	/* json as ever */
	free(b.data);
	snprintf(path, sizeof(path), "%s/owd-lab-1.prom", dir);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_true(getdelim(&data, &len, '\0', f) > 0);
	fclose(f);
	assert_non_null(strstr(data, "meshperf_owd_rtt_seconds{job=\"lab-1\",dst=\"h1\"} 0.002\n"));
	assert_non_null(strstr(data, "meshperf_owd_success{job=\"lab-1\"} 0\n"));
	assert_non_null(strstr(data, "meshperf_owd_exit_code{job=\"lab-1\"} 1\n"));
	assert_non_null(strstr(data, "meshperf_owd_last_run_timestamp_seconds{job=\"lab-1\"} "));
	if (have("promtool")) {
		out = run_on("promtool check metrics < %s 2>&1", data, &status);
		if (status != 0)
			print_error("promtool: %s\n", out);
		assert_int_equal(status, 0);
		free(out);
	}
	free(data);
	unlink(path);
	rmdir(dir);
}

static void test_misuse(void **state)
{
	struct mp_writer *w = NULL;
	struct buf b;

	(void)state;
	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_JSON, b.f, "t", "t/1"), 0);
	/* a field outside any unit */
	assert_int_equal(mp_put_u64(w, "x", "%" PRIu64, 1), -EINVAL);
	/* errors are sticky */
	assert_int_equal(mp_doc_begin(w, NULL), -EINVAL);
	assert_int_equal(mp_writer_close(w), -EINVAL);
	buf_close(&b);
	free(b.data);

	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_NDJSON, b.f, "t", "t/1"), 0);
	assert_int_equal(mp_record_begin(w, "r"), 0);
	assert_int_equal(mp_obj_begin(w, "o", NULL), 0);
	/* ending the record with an object open */
	assert_int_equal(mp_record_end(w), -EINVAL);
	assert_int_equal(mp_writer_close(w), -EINVAL);
	buf_close(&b);
	free(b.data);

	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_JSON, b.f, "t", "t/1"), 0);
	assert_int_equal(mp_record_begin(w, "r"), 0);
	/* a keyless field in an object, a keyed one in an array */
	assert_int_equal(mp_put_u64(w, NULL, "%" PRIu64, 1), -EINVAL);
	assert_int_equal(mp_writer_close(w), -EINVAL);
	buf_close(&b);
	free(b.data);

	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_JSON, b.f, "t", "t/1"), 0);
	assert_int_equal(mp_doc_begin(w, NULL), 0);
	assert_int_equal(mp_doc_end(w), 0);
	/* a second document */
	assert_int_equal(mp_doc_begin(w, NULL), -EINVAL);
	assert_int_equal(mp_writer_close(w), -EINVAL);
	buf_close(&b);
	free(b.data);

	buf_open(&b);
	assert_int_equal(mp_writer_new(&w, MP_FMT_JSON, b.f, "t", "t/1"), 0);
	/* a record type that would need escaping as a json key */
	assert_int_equal(mp_record_begin(w, "a\"b"), -EINVAL);
	assert_int_equal(mp_writer_close(w), -EINVAL);
	buf_close(&b);
	free(b.data);

	assert_int_equal(mp_writer_close(NULL), 0);
	assert_int_equal(mp_writer_new(&w, (enum mp_format)99, stdout, "t", "t/1"), -EINVAL);
}

static void test_write_error(void **state)
{
	struct mp_writer *w = NULL;
	FILE *f = fopen("/dev/full", "w");
	int r;

	(void)state;
	if (!f)
		skip();
	assert_int_equal(mp_writer_new(&w, MP_FMT_NDJSON, f, "t", "t/1"), 0);
	/* the record is flushed at its end: the error shows there or at close */
	r = mp_record_begin(w, "r");
	if (r == 0)
		r = mp_put_u64(w, "x", "%" PRIu64, 1);
	if (r == 0)
		r = mp_record_end(w);
	r = mp_writer_close(w);
	assert_true(r < 0);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_text_doc),
		cmocka_unit_test(test_text_records),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_ndjson),
		cmocka_unit_test(test_csv_records),
		cmocka_unit_test(test_csv_doc),
		cmocka_unit_test(test_csv_table_choice),
		cmocka_unit_test(test_prom),
		cmocka_unit_test(test_prom_label_escaping),
		cmocka_unit_test(test_prom_number_label),
		cmocka_unit_test(test_prom_summary_help),
		cmocka_unit_test(test_text_color),
		cmocka_unit_test(test_json_streamed),
		cmocka_unit_test(test_csv_doubles),
		cmocka_unit_test(test_json_like_jansson),
		cmocka_unit_test(test_json_bad_utf8),
		cmocka_unit_test(test_text_batch_columns),
		cmocka_unit_test(test_batch_error),
		cmocka_unit_test(test_live),
		cmocka_unit_test(test_multi),
		cmocka_unit_test(test_forward),
		cmocka_unit_test(test_text_only),
		cmocka_unit_test(test_fmt_units),
		cmocka_unit_test(test_replay_bad),
		cmocka_unit_test(test_textfile),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
