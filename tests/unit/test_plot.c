/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of lib/plot.c: real gnuplot runs (skipped when gnuplot is not
 * installed), and fake "gnuplot" programs put first in PATH for the timeout
 * and not-found cases. PNG facts come from the PNG specification (ISO/IEC
 * 15948): an 8-byte signature, then the IHDR chunk (length 13, "IHDR",
 * big-endian width and height).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "mp.h"
#include "clock.h"
#include "plot.h"

static const unsigned char png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

struct fixture {
	char dir[64];		/* private directory, also TMPDIR for the library */
	char old_cwd[4096];
	char *old_path;		/* PATH at setup, restored at teardown */
	char *old_tmpdir;
};

static char *dup_env(const char *name)
{
	const char *v = getenv(name);

	return v ? strdup(v) : NULL;
}

static void restore_env(const char *name, const char *v)
{
	if (v)
		setenv(name, v, 1);
	else
		unsetenv(name);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	strcpy(fx->dir, "/tmp/test_plot-XXXXXX");
	if (!mkdtemp(fx->dir) || !getcwd(fx->old_cwd, sizeof(fx->old_cwd))) {
		free(fx);
		return -1;
	}
	fx->old_path = dup_env("PATH");
	fx->old_tmpdir = dup_env("TMPDIR");
	setenv("TMPDIR", fx->dir, 1);
	*state = fx;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int r;

	r = chdir(fx->old_cwd);
	restore_env("PATH", fx->old_path);
	restore_env("TMPDIR", fx->old_tmpdir);
	nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx->old_path);
	free(fx->old_tmpdir);
	free(fx);
	return r;
}

static bool have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char buf[4096], *dir, *save = NULL;

	if (!path || strlen(path) >= sizeof(buf))
		return false;
	strcpy(buf, path);
	for (dir = strtok_r(buf, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		char exe[4200];

		snprintf(exe, sizeof(exe), "%s/gnuplot", dir);
		if (access(exe, X_OK) == 0)
			return true;
	}
	return false;
}

#define NEED_GNUPLOT() do { \
	if (!have_gnuplot()) { \
		print_message("skipped: gnuplot is not installed\n"); \
		skip(); \
	} \
} while (0)

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(close(fd), 0);
}

static void path_in(char *buf, size_t len, const struct fixture *fx, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", fx->dir, name);

	assert_true(n > 0 && (size_t)n < len);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* The file is a PNG of exactly w x h pixels. */
static void assert_png(const char *path, uint32_t w, uint32_t h)
{
	unsigned char b[24];
	uint32_t got_w, got_h;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(read(fd, b, sizeof(b)), sizeof(b));
	close(fd);
	assert_memory_equal(b, png_sig, sizeof(png_sig));
	assert_memory_equal(b + 8, "\0\0\0\x0dIHDR", 8);
	got_w = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
	got_h = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
	assert_int_equal(got_w, w);
	assert_int_equal(got_h, h);
}

/* Files in the fixture directory whose name starts with prefix. */
static int count_files(const struct fixture *fx, const char *prefix)
{
	DIR *d = opendir(fx->dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

static const char line_csv[] =
	"t_s,rtt_ms,loss_pct\n"
	"0,1.5,0\n"
	"1,2.25,0.5\n"
	"2,1.75,0\n"
	"3,3.5,1\n";

static void test_line_plot(void **state)
{
	struct fixture *fx = *state;
	const struct mp_plot_series s[] = {
		{ .title = "rtt", .x_col = 1, .y_col = 2, .style = "linespoints" },
		{ .title = NULL, .x_col = 1, .y_col = 3, .style = "points" },
		{ .title = "rtt again", .x_col = 1, .y_col = 2 },
	};
	char csv[128], png[128], err[256] = "x";
	struct mp_plot p = {
		.csv_path = csv, .png_path = png, .title = "RTT_{ms} ^2 over time",
		.xlabel = "time (s)", .ylabel = "ms", .series = s, .n_series = 3,
		.width_px = 640, .height_px = 360,
	};

	NEED_GNUPLOT();
	path_in(csv, sizeof(csv), fx, "line.csv");
	path_in(png, sizeof(png), fx, "line.png");
	write_file(csv, line_csv, 0644);
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_png(png, 640, 360);

	/* defaults: 1024 x 640, no errbuf */
	p.width_px = 0;
	p.height_px = 0;
	p.title = NULL;
	p.xlabel = NULL;
	p.ylabel = NULL;
	assert_int_equal(mp_plot_render(&p, NULL, 0), 0);
	assert_png(png, MP_PLOT_WIDTH_PX, MP_PLOT_HEIGHT_PX);
	/* the script and stderr files are gone */
	assert_int_equal(count_files(fx, "mp-plot"), 0);
}

static void test_heatmap(void **state)
{
	struct fixture *fx = *state;
	const struct mp_plot_series s = { .x_col = 1, .y_col = 2, .z_col = 3 };
	char csv[128], png[128], err[256];
	struct mp_plot p = {
		.csv_path = csv, .png_path = png, .title = "RTT by hop",
		.xlabel = "time (s)", .ylabel = "hop", .zlabel = "rtt (ms)",
		.series = &s, .n_series = 1, .width_px = 500, .height_px = 301, .heatmap = true,
	};
	char data[2048];
	size_t off;
	int t, hop;

	NEED_GNUPLOT();
	off = (size_t)snprintf(data, sizeof(data), "t_s,hop,rtt_ms\n");
	for (t = 0; t < 6; t++)
		for (hop = 1; hop <= 4; hop++)
			off += (size_t)snprintf(data + off, sizeof(data) - off, "%d,%d,%d.5\n",
						t, hop, t * hop);
	path_in(csv, sizeof(csv), fx, "heat.csv");
	path_in(png, sizeof(png), fx, "heat.png");
	write_file(csv, data, 0644);
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), 0);
	assert_png(png, 500, 301);
}

/*
 * Text under an attacker's control stays text: quotes, a newline followed
 * by commands, backquotes (shell substitution in gnuplot), @macros,
 * backslashes and a trailing backslash (line continuation) change nothing.
 */
static void test_hostile_text(void **state)
{
	struct fixture *fx = *state;
	char csv[128], png[128], err[256], pwned[128], evil[128], title[512], label[512];
	struct mp_plot_series s = { .x_col = 1, .y_col = 2 };
	struct mp_plot p = {
		.csv_path = csv, .png_path = png, .title = title, .xlabel = label,
		.ylabel = "\\", .series = &s, .n_series = 1, .width_px = 320, .height_px = 200,
	};
	int r;

	NEED_GNUPLOT();
	path_in(csv, sizeof(csv), fx, "h.csv");
	path_in(png, sizeof(png), fx, "h.png");
	path_in(pwned, sizeof(pwned), fx, "pwned");
	path_in(evil, sizeof(evil), fx, "evil.png");
	write_file(csv, line_csv, 0644);
	snprintf(title, sizeof(title),
		 "it's \"quoted\"'\nsystem('touch %s')\nset output '%s'\nplot x\n"
		 "`touch %s` @x \\n \\", pwned, evil, pwned);
	snprintf(label, sizeof(label), "a'; system(\"touch %s\"); print '\r\t\\", pwned);
	s.title = "'; system('touch pwned') #";
	r = mp_plot_render(&p, err, sizeof(err));
	if (r != 0)
		fail_msg("render: %d: %s", r, err);
	assert_png(png, 320, 200);
	assert_false(exists(pwned));
	assert_false(exists(evil));
	assert_false(exists("pwned"));
}

/* File names gnuplot would treat specially ('<cmd', '|cmd', '-') stay files. */
static void test_special_file_names(void **state)
{
	struct fixture *fx = *state;
	const struct mp_plot_series s = { .title = "x", .x_col = 1, .y_col = 2 };
	struct mp_plot p = {
		.csv_path = "<touch pwned_in", .png_path = "|touch pwned_out",
		.series = &s, .n_series = 1, .width_px = 200, .height_px = 100,
	};
	char err[256];

	NEED_GNUPLOT();
	assert_int_equal(chdir(fx->dir), 0);
	write_file("<touch pwned_in", line_csv, 0644);
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), 0);
	assert_png("|touch pwned_out", 200, 100);
	assert_false(exists("pwned_in"));
	assert_false(exists("pwned_out"));

	write_file("-", line_csv, 0644);
	p.csv_path = "-";
	p.png_path = "+";
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), 0);
	assert_png("+", 200, 100);
}

static void test_missing_csv(void **state)
{
	struct fixture *fx = *state;
	const struct mp_plot_series s = { .title = "x", .x_col = 1, .y_col = 2 };
	char csv[128], png[128], err[256];
	struct mp_plot p = { .csv_path = csv, .png_path = png, .series = &s, .n_series = 1 };

	path_in(csv, sizeof(csv), fx, "no-such.csv");
	path_in(png, sizeof(png), fx, "missing.png");
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no-such.csv"));
	assert_false(exists(png));
}

/* Series from files of their own (a run's targets): drawn; a missing one named. */
static void test_series_files(void **state)
{
	struct fixture *fx = *state;
	char a[128], b[128], png[128], err[256];
	struct mp_plot_series s[] = {
		{ .title = "a", .x_col = 1, .y_col = 2, .csv_path = a },
		{ .title = "b", .x_col = 1, .y_col = 2, .csv_path = b },
	};
	struct mp_plot p = { .png_path = png, .series = s, .n_series = 2 };

	NEED_GNUPLOT();
	path_in(a, sizeof(a), fx, "a.csv");
	path_in(b, sizeof(b), fx, "b.csv");
	path_in(png, sizeof(png), fx, "ab.png");
	write_file(a, line_csv, 0644);
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "b.csv"));
	assert_false(exists(png));
	write_file(b, "t_s,rtt_ms\n0,9\n1,8\n", 0644);
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), 0);
	assert_png(png, MP_PLOT_WIDTH_PX, MP_PLOT_HEIGHT_PX);
	/* no file at all for a series */
	s[1].csv_path = NULL;
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EINVAL);
}

/* gnuplot runs and fails: -EIO and its first error line, without the script name. */
static void test_gnuplot_error(void **state)
{
	struct fixture *fx = *state;
	const struct mp_plot_series s = { .title = "x", .x_col = 1, .y_col = 2 };
	char csv[128], png[128], err[256];
	struct mp_plot p = { .csv_path = csv, .png_path = png, .series = &s, .n_series = 1 };

	NEED_GNUPLOT();
	path_in(csv, sizeof(csv), fx, "empty.csv");
	path_in(png, sizeof(png), fx, "empty.png");
	write_file(csv, "t_s,rtt_ms\n", 0644);	/* a header and no data */
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EIO);
	print_message("gnuplot said: %s\n", err);
	assert_true(strncmp(err, "line ", 5) == 0);
	assert_null(strstr(err, "mp-plot"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(count_files(fx, "mp-plot"), 0);

	/* a one-byte buffer gets just the NUL */
	err[0] = 'x';
	assert_int_equal(mp_plot_render(&p, err, 1), -EIO);
	assert_int_equal(err[0], '\0');
}

static void test_not_installed(void **state)
{
	struct fixture *fx = *state;
	const struct mp_plot_series s = { .title = "x", .x_col = 1, .y_col = 2 };
	char csv[128], png[128], err[256];
	struct mp_plot p = { .csv_path = csv, .png_path = png, .series = &s, .n_series = 1 };

	path_in(csv, sizeof(csv), fx, "ni.csv");
	path_in(png, sizeof(png), fx, "ni.png");
	write_file(csv, line_csv, 0644);
	setenv("PATH", fx->dir, 1);	/* holds no gnuplot */
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "gnuplot not found in PATH");
	assert_int_equal(count_files(fx, "mp-plot"), 0);
}

/* A gnuplot that hangs is killed after timeout_ns. */
static void test_timeout(void **state)
{
	struct fixture *fx = *state;
	const struct mp_plot_series s = { .title = "x", .x_col = 1, .y_col = 2 };
	char csv[128], png[128], fake[128], err[256], path[256];
	struct mp_plot p = {
		.csv_path = csv, .png_path = png, .series = &s, .n_series = 1,
		.timeout_ns = 300 * MP_NSEC_PER_MSEC,
	};
	uint64_t t0, took_ns;

	if (access("/bin/sleep", X_OK) != 0) {
		print_message("skipped: no /bin/sleep for the fake gnuplot\n");
		skip();
	}
	path_in(csv, sizeof(csv), fx, "to.csv");
	path_in(png, sizeof(png), fx, "to.png");
	path_in(fake, sizeof(fake), fx, "gnuplot");
	write_file(csv, line_csv, 0644);
	write_file(fake, "#!/bin/sh\nexec /bin/sleep 20\n", 0755);
	snprintf(path, sizeof(path), "%s:/bin:/usr/bin", fx->dir);
	setenv("PATH", path, 1);
	t0 = mp_clock_mono_ns();
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -ETIMEDOUT);
	took_ns = mp_clock_mono_ns() - t0;
	print_message("killed after %.1f ms: %s\n", (double)took_ns / 1e6, err);
	/* the deadline plus at most one 50 ms poll step and the kill */
	assert_true(took_ns >= p.timeout_ns);
	assert_true(took_ns < p.timeout_ns + 500 * MP_NSEC_PER_MSEC);
	assert_int_equal(count_files(fx, "mp-plot"), 0);
}

static void test_invalid(void **state)
{
	struct fixture *fx = *state;
	struct mp_plot_series s = { .title = "x", .x_col = 1, .y_col = 2 };
	char csv[128], png[128], err[256];
	struct mp_plot p = { .csv_path = csv, .png_path = png, .series = &s, .n_series = 1 };

	path_in(csv, sizeof(csv), fx, "inv.csv");
	path_in(png, sizeof(png), fx, "inv.png");
	write_file(csv, line_csv, 0644);

	assert_int_equal(mp_plot_render(NULL, err, sizeof(err)), -EINVAL);
	p.n_series = 0;
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EINVAL);
	p.n_series = 1;
	s.x_col = 0;
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EINVAL);
	s.x_col = 1;
	s.style = "impulses; system('id')";
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EINVAL);
	s.style = NULL;
	p.heatmap = true;	/* needs z_col */
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EINVAL);
	p.heatmap = false;
	p.width_px = MP_PLOT_MIN_PX - 1;
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EINVAL);
	p.width_px = MP_PLOT_MAX_PX + 1;
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EINVAL);
	p.width_px = 0;
	p.png_path = "a\nb.png";
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EINVAL);
	p.png_path = "";
	assert_int_equal(mp_plot_render(&p, err, sizeof(err)), -EINVAL);
	assert_false(exists(png));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_line_plot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_heatmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_special_file_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_series_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gnuplot_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_installed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
