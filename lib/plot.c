/* SPDX-License-Identifier: MIT */
/*
 * gnuplot runner. Everything gnuplot reads comes from a script we write.
 * User text (titles, labels, file names) only ever appears inside double-
 * quoted gnuplot strings, and there only letters, digits, space and a few
 * harmless punctuation marks are written as they are; every other byte is an
 * octal escape, so no quote, backslash, `backquote` (shell substitution),
 * @macro, ';' or '#' ever reaches gnuplot's command line. Single-quoted
 * strings with doubled quotes are not safe: gnuplot 5.4 reads a leading
 * '' as an empty string. Control characters become spaces, since a newline
 * would break the title (and rejected in file names).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mp.h"
#include "clock.h"
#include "out.h"
#include "plot.h"

extern char **environ;

enum {
	ERR_READ_MAX = 8192,		/* bytes of gnuplot's stderr looked at */
	WAIT_STEP_MIN_NS = 1000000,	/* first poll interval while gnuplot runs */
	WAIT_STEP_MAX_NS = 50000000,	/* longest poll interval */
};

static const char *const styles[] = { "lines", "points", "linespoints" };

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...) MP_PRINTF(3, 4);

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/*
 * Write s as the inside of a double-quoted gnuplot string. gnuplot reads
 * "\0ooo" as exactly three octal digits after the 0, whatever follows (a
 * plain "\ooo" followed by a digit is ambiguous), so that form is used.
 */
static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    strchr(" .,:_-+/()%=", c))
			fputc(c, f);
		else if (c < 0x20 || c == 0x7f)
			fputc(' ', f);
		else
			fprintf(f, "\\0%03o", c);
	}
}

static void put_quoted(FILE *f, const char *s)
{
	fputc('"', f);
	put_escaped(f, s);
	fputc('"', f);
}

/*
 * Write a file name as a gnuplot string. gnuplot gives some names a meaning:
 * '<cmd' and '|cmd' run a shell, '-' is stdin, '+' and '++' are pseudo
 * files, '~/' is expanded. "./" in front of a relative name keeps it a file.
 */
static void put_path(FILE *f, const char *path)
{
	fputs(path[0] == '/' ? "\"" : "\"./", f);
	put_escaped(f, path);
	fputc('"', f);
}

static void put_setting(FILE *f, const char *what, const char *text)
{
	if (!text)
		return;
	fprintf(f, "set %s ", what);
	put_quoted(f, text);
	fputc('\n', f);
}

static bool style_ok(const char *style)
{
	size_t i;

	if (!style)
		return true;
	for (i = 0; i < MP_ARRAY_SIZE(styles); i++)
		if (strcmp(style, styles[i]) == 0)
			return true;
	return false;
}

static const char *series_csv(const struct mp_plot *p, const struct mp_plot_series *s)
{
	return s->csv_path ? s->csv_path : p->csv_path;
}

static int check_plot(const struct mp_plot *p, char *errbuf, size_t errlen)
{
	unsigned int w = p->width_px ? p->width_px : MP_PLOT_WIDTH_PX;
	unsigned int h = p->height_px ? p->height_px : MP_PLOT_HEIGHT_PX;
	size_t i;

	if (!p->png_path || !*p->png_path || has_control(p->png_path)) {
		set_err(errbuf, errlen, "missing or unusable file name");
		return -EINVAL;
	}
	if (w < MP_PLOT_MIN_PX || w > MP_PLOT_MAX_PX || h < MP_PLOT_MIN_PX || h > MP_PLOT_MAX_PX) {
		set_err(errbuf, errlen, "plot size %ux%u out of range", w, h);
		return -EINVAL;
	}
	if (!p->series || p->n_series == 0) {
		set_err(errbuf, errlen, "no series to plot");
		return -EINVAL;
	}
	for (i = 0; i < (p->heatmap ? 1 : p->n_series); i++) {
		const struct mp_plot_series *s = &p->series[i];
		const char *csv = series_csv(p, s);

		if (!csv || !*csv || has_control(csv)) {
			set_err(errbuf, errlen, "missing or unusable file name");
			return -EINVAL;
		}
		if (s->x_col == 0 || s->y_col == 0 || (p->heatmap && s->z_col == 0) ||
		    !style_ok(s->style)) {
			set_err(errbuf, errlen, "series %zu: bad column or style", i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static void put_series(FILE *f, const struct mp_plot *p, const struct mp_plot_series *s)
{
	put_path(f, series_csv(p, s));
	/* the header row is skipped, or consumed as the legend text */
	if (s->title || p->heatmap)
		fputs(" skip 1", f);
	if (p->heatmap)
		fprintf(f, " using %u:%u:%u with image", s->x_col, s->y_col, s->z_col);
	else
		fprintf(f, " using %u:%u with %s", s->x_col, s->y_col,
			s->style ? s->style : "lines");
	if (s->title) {
		fputs(" title ", f);
		put_quoted(f, s->title);
	} else if (p->heatmap) {
		fputs(" notitle", f);
	} else {
		fprintf(f, " title columnheader(%u)", s->y_col);
	}
}

static int write_script(int fd, const struct mp_plot *p)
{
	unsigned int w = p->width_px ? p->width_px : MP_PLOT_WIDTH_PX;
	unsigned int h = p->height_px ? p->height_px : MP_PLOT_HEIGHT_PX;
	size_t i, n = p->heatmap ? 1 : p->n_series;
	FILE *f;
	int r = 0;

	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		return r;
	}
	/*
	 * pngcairo draws much better, but is an optional part of gnuplot.
	 * noenhanced: "_", "^" and "{}" in titles are text, not markup.
	 */
	fprintf(f, "if (strstrt(' '.GPVAL_TERMINALS.' ', ' pngcairo ') > 0) {\n"
		   "\tset terminal pngcairo size %u,%u noenhanced\n"
		   "} else {\n"
		   "\tset terminal png size %u,%u noenhanced\n"
		   "}\n", w, h, w, h);
	fputs("set output ", f);
	put_path(f, p->png_path);
	fputs("\nset datafile separator comma\nset grid\n", f);
	put_setting(f, "title", p->title);
	put_setting(f, "xlabel", p->xlabel);
	put_setting(f, "ylabel", p->ylabel);
	if (p->heatmap) {
		fputs("set autoscale xfix\nset autoscale yfix\n", f);
		put_setting(f, "cblabel", p->zlabel);
	}
	fputs("plot ", f);
	for (i = 0; i < n; i++) {
		if (i > 0)
			fputs(", \\\n\t", f);
		put_series(f, p, &p->series[i]);
	}
	/* closing the output is what makes gnuplot finish the PNG file */
	fputs("\nunset output\n", f);
	if (ferror(f))
		r = -EIO;
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

static int make_temp(char *path, size_t len, const char *name)
{
	const char *dir = secure_getenv("TMPDIR");
	int n, fd;

	if (!dir || !*dir)
		dir = "/tmp";
	n = snprintf(path, len, "%s/%s-XXXXXX", dir, name);
	if (n < 0 || (size_t)n >= len)
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/*
 * The most useful line of gnuplot's stderr: the first error of the form
 * "SCRIPT" line N: message (not a warning), with the temporary script's
 * name dropped; else the first line that is not blank or indented.
 */
static void first_error(int fd, const char *script, char *errbuf, size_t errlen)
{
	char buf[ERR_READ_MAX + 1], prefix[PATH_MAX + 4];
	char *line, *next, *fallback = NULL;
	ssize_t n;
	size_t plen;

	if (!errbuf || errlen == 0)
		return;
	n = pread(fd, buf, ERR_READ_MAX, 0);
	if (n <= 0) {
		set_err(errbuf, errlen, "gnuplot failed without a message");
		return;
	}
	buf[n] = '\0';
	snprintf(prefix, sizeof(prefix), "\"%s\" ", script);
	plen = strlen(prefix);
	for (line = buf; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line[strcspn(line, "\r")] = '\0';
		if (strncmp(line, prefix, plen) == 0 && !strstr(line, ": warning:")) {
			set_err(errbuf, errlen, "%s", line + plen);
			return;
		}
		if (!fallback && line[0] != '\0' && line[0] != ' ' && line[0] != '\t')
			fallback = line;
	}
	set_err(errbuf, errlen, "%s", fallback ? fallback : "gnuplot failed");
}

/*
 * Reap pid, waiting at most timeout_ns, and kill it then. Returns 0,
 * -ETIMEDOUT (killed and reaped) or -errno; *ret_status set unless -errno.
 */
static int wait_bounded(pid_t pid, uint64_t timeout_ns, int *ret_status)
{
	uint64_t deadline = mp_clock_mono_ns() + timeout_ns, step = WAIT_STEP_MIN_NS;
	int status = 0, r = 0;
	pid_t w;

	for (;;) {
		w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (mp_clock_mono_ns() >= deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			r = -ETIMEDOUT;
			break;
		}
		/* an EINTR here only shortens one step */
		nanosleep(&(struct timespec){ .tv_nsec = (long)step }, NULL);
		step = MP_MIN(step * 2, (uint64_t)WAIT_STEP_MAX_NS);
	}
	*ret_status = status;
	return r;
}

static int spawn_gnuplot(char *script, int err_fd, pid_t *ret_pid)
{
	char gnuplot[] = "gnuplot";
	char *const argv[] = { gnuplot, script, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, def;
	int r;

	r = posix_spawn_file_actions_init(&fa);
	if (r)
		return -r;
	r = posix_spawnattr_init(&attr);
	if (r) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	sigemptyset(&none);
	sigemptyset(&def);
	/*
	 * A network tool often ignores SIGPIPE or blocks signals; gnuplot
	 * should start with neither.
	 */
	sigaddset(&def, SIGPIPE);
	if ((r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null",
						    O_RDONLY, 0)) ||
	    (r = posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null",
						    O_WRONLY, 0)) ||
	    (r = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO)) ||
	    (r = posix_spawnattr_setsigmask(&attr, &none)) ||
	    (r = posix_spawnattr_setsigdefault(&attr, &def)) ||
	    (r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
					  POSIX_SPAWN_SETSIGDEF)))
		goto out;
	r = posix_spawnp(ret_pid, "gnuplot", &fa, &attr, argv, environ);
out:
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

int mp_plot_render(const struct mp_plot *p, char *errbuf, size_t errlen)
{
	char script[PATH_MAX] = "", errpath[PATH_MAX];
	uint64_t timeout_ns;
	struct stat st;
	int r, fd, err_fd = -1, status = 0;
	pid_t pid = -1;

	if (errbuf && errlen > 0)
		errbuf[0] = '\0';
	if (!p) {
		set_err(errbuf, errlen, "no plot");
		return -EINVAL;
	}
	r = check_plot(p, errbuf, errlen);
	if (r < 0)
		return r;
	/* gnuplot only warns about a missing file; say so clearly instead */
	for (size_t i = 0; i < (p->heatmap ? 1 : p->n_series); i++) {
		const char *csv = series_csv(p, &p->series[i]);

		fd = open(csv, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			r = -errno;
			set_err(errbuf, errlen, "cannot open %s: %s", csv, strerror(-r));
			return r;
		}
		close(fd);
	}

	fd = make_temp(script, sizeof(script), "mp-plot");
	if (fd < 0) {
		r = fd;
		script[0] = '\0';
		set_err(errbuf, errlen, "cannot create a temporary file: %s", strerror(-r));
		goto out;
	}
	r = write_script(fd, p);
	if (r < 0) {
		set_err(errbuf, errlen, "cannot write the gnuplot script: %s", strerror(-r));
		goto out;
	}
	err_fd = make_temp(errpath, sizeof(errpath), "mp-plot-err");
	if (err_fd < 0) {
		r = err_fd;
		set_err(errbuf, errlen, "cannot create a temporary file: %s", strerror(-r));
		goto out;
	}
	/* only the descriptor is needed: nothing is left behind on any exit */
	unlink(errpath);

	r = spawn_gnuplot(script, err_fd, &pid);
	if (r < 0) {
		if (r == -ENOENT)
			set_err(errbuf, errlen, "gnuplot not found in PATH");
		else
			set_err(errbuf, errlen, "cannot run gnuplot: %s", strerror(-r));
		goto out;
	}
	timeout_ns = p->timeout_ns ? p->timeout_ns :
				   (uint64_t)MP_PLOT_TIMEOUT_S * MP_NSEC_PER_SEC;
	r = wait_bounded(pid, timeout_ns, &status);
	if (r == -ETIMEDOUT) {
		set_err(errbuf, errlen, "gnuplot killed after %llu ms",
			(unsigned long long)(timeout_ns / MP_NSEC_PER_MSEC));
		goto out;
	}
	if (r < 0) {
		set_err(errbuf, errlen, "waiting for gnuplot: %s", strerror(-r));
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		r = -EIO;
		first_error(err_fd, script, errbuf, errlen);
		goto out;
	}
	if (stat(p->png_path, &st) < 0 || st.st_size == 0) {
		r = -EIO;
		set_err(errbuf, errlen, "gnuplot wrote no PNG to %s", p->png_path);
		goto out;
	}
	r = 0;
out:
	if (err_fd >= 0)
		close(err_fd);
	if (script[0])
		unlink(script);
	return r;
}

int mp_plot_csv(const char *path, const char *tool,
		int (*rows)(struct mp_writer *w, const void *ctx), const void *ctx)
{
	struct mp_writer *w = NULL;
	FILE *f = fopen(path, "we");
	int r;

	if (!f)
		return -errno;
	r = mp_writer_new(&w, MP_FMT_CSV, f, tool, "plot/1");
	if (r == 0)
		r = rows(w, ctx);
	if (r == 0)
		r = mp_writer_close(w);
	else
		mp_writer_close(w);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r;
}

int mp_plot_rows(struct mp_plot *p, const char *tool,
		 int (*rows)(struct mp_writer *w, const void *ctx), const void *ctx,
		 char *errbuf, size_t errlen)
{
	char path[] = "/tmp/meshperf-plot-XXXXXX";
	int fd, r;

	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	close(fd);
	r = mp_plot_csv(path, tool, rows, ctx);
	p->csv_path = path;
	if (r == 0)
		r = mp_plot_render(p, errbuf, errlen);
	p->csv_path = NULL;
	unlink(path);
	return r;
}
