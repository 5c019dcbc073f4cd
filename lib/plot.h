/* SPDX-License-Identifier: MIT */
/*
 * PNG plots of a CSV file, drawn by gnuplot (an external program, run with
 * posix_spawnp(), never through a shell; STYLE.md W5).
 */
#ifndef MP_PLOT_H
#define MP_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	MP_PLOT_WIDTH_PX = 1024,	/* default width_px */
	MP_PLOT_HEIGHT_PX = 640,	/* default height_px */
	MP_PLOT_MIN_PX = 16,		/* smallest accepted width or height */
	MP_PLOT_MAX_PX = 16384,		/* largest accepted width or height */
	MP_PLOT_TIMEOUT_S = 30,		/* default timeout_ns, in seconds */
};

/* One curve (or, for a heatmap, the one image) of a plot. */
struct mp_plot_series {
	const char *title;	/* legend text, any bytes; NULL: the y column's CSV header
				 * (none for a heatmap) */
	unsigned int x_col;	/* 1-based CSV column of x */
	unsigned int y_col;	/* 1-based CSV column of y */
	unsigned int z_col;	/* 1-based CSV column of the colour value; heatmap only */
	const char *style;	/* "lines" (NULL), "points" or "linespoints"; not heatmap */
	const char *csv_path;	/* its own CSV file; NULL: the plot's csv_path */
};

struct mp_plot {
	const char *csv_path;	/* input: comma-separated, one header row (each
				 * series may name its own instead) */
	const char *png_path;	/* output, created or replaced */
	const char *title;	/* plot title, any bytes; NULL: none */
	const char *xlabel;	/* axis labels, any bytes; NULL: none */
	const char *ylabel;
	const char *zlabel;	/* colour-box label of a heatmap; NULL: none */
	const struct mp_plot_series *series;	/* n_series curves, drawn in order */
	size_t n_series;	/* >= 1; a heatmap uses series[0] only */
	unsigned int width_px;	/* PNG width; 0: MP_PLOT_WIDTH_PX */
	unsigned int height_px;	/* PNG height; 0: MP_PLOT_HEIGHT_PX */
	bool heatmap;		/* series[0] as x, y, colour z; rows must form a complete
				 * grid (gnuplot "with image"), else the plot is empty */
	uint64_t timeout_ns;	/* gnuplot is killed after this; 0: MP_PLOT_TIMEOUT_S */
};

/*
 * Render p to p->png_path with gnuplot (pngcairo terminal, or png when
 * gnuplot was built without cairo). The gnuplot script goes to a private
 * temporary file (in $TMPDIR or /tmp) that is removed again; titles and
 * labels are quoted so that no text can end the string and inject gnuplot
 * commands (control characters become spaces). gnuplot's stdin and stdout
 * are /dev/null and its stderr is captured, never shown. The call blocks
 * until gnuplot exits; the caller must not ignore SIGCHLD.
 *
 * errbuf (may be NULL, errlen bytes) receives a one-line reason on failure,
 * such as gnuplot's first error line ("line 9: No data in plot").
 * Returns 0, or
 *   -EINVAL     a field of p is invalid (no series, column 0, unknown style,
 *               size out of [MP_PLOT_MIN_PX, MP_PLOT_MAX_PX], a control
 *               character in a path);
 *   -ENOENT     csv_path does not exist, or gnuplot is not in $PATH (errbuf
 *               tells which); other -errno when csv_path cannot be read;
 *   -EIO        gnuplot failed (non-zero exit or no PNG written);
 *   -ETIMEDOUT  gnuplot did not finish in time and was killed;
 *   another -errno from creating the temporary files or spawning.
 */
int mp_plot_render(const struct mp_plot *p, char *errbuf, size_t errlen);

struct mp_writer;

/*
 * Writes path (created or truncated) as a CSV file of the rows that
 * rows(w, ctx) writes as records through w (tool, the writer's tool name),
 * for a series' csv_path. Returns 0, or rows' error, or -errno.
 */
int mp_plot_csv(const char *path, const char *tool,
		int (*rows)(struct mp_writer *w, const void *ctx), const void *ctx);

/*
 * Renders p from rows that rows(w, ctx) writes as records through w, a CSV
 * writer on a private temporary file (tool, the writer's tool name); the
 * file is p's csv_path (set here) and is removed afterwards. Returns 0, or
 * rows' error, or a write error, or mp_plot_render's.
 */
int mp_plot_rows(struct mp_plot *p, const char *tool,
		 int (*rows)(struct mp_writer *w, const void *ctx), const void *ctx,
		 char *errbuf, size_t errlen);

#endif
