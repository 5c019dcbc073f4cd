/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the target reader of lib/targets.c (a tool's "-"
 * operand: a list, or another tool's CSV / NDJSON). Properties: it returns
 * the number of bad lines or a negative errno; every bad line it reports
 * exists in the input; every target is a valid host (mp_target_parse gives
 * it back unchanged), comes from a line that exists, and appears once.
 */
#include "targets.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct errs {
	unsigned lines, count;
};

static void on_err(unsigned line, const char *why, void *ctx)
{
	struct errs *e = ctx;

	if (line < 1 || line > e->lines || !*why)
		abort();
	e->count++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mp_targets t = { 0 };
	struct errs e = { .lines = 1 };
	char buf[HOST_MAX];
	FILE *f;
	int r;

	for (size_t i = 0; i < size; i++)
		e.lines += data[i] == '\n';
	f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	r = mp_targets_read(f, size && data[0] == 'k' ? "k" : NULL, &t, on_err, &e);
	fclose(f);
	if (r >= 0 && (unsigned)r != e.count)
		abort();
	for (size_t i = 0; i < t.n; i++) {
		if (t.v[i].line < 1 || t.v[i].line > e.lines)
			abort();
		if (mp_target_parse(t.v[i].host, buf, sizeof(buf)) != 0 || strcmp(buf, t.v[i].host))
			abort();
		for (size_t j = 0; j < i; j++)
			if (!strcmp(t.v[i].host, t.v[j].host))
				abort();
	}
	mp_targets_free(&t);
	return 0;
}
