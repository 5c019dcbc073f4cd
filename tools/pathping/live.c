/* SPDX-License-Identifier: MIT */
/*
 * pathping's live view (mtr's default display, without a screen library):
 * on a terminal, the report is drawn again in place after every round, on
 * the alternate screen, until the run ends, 'q' is pressed or a signal
 * stops it; then the terminal is put back as it was (screen, cursor, input
 * mode) and the final report is printed as without the view. The drawing
 * is pp_print() of a snapshot of the running result, analysed as the
 * final report is: one renderer for both.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "clock.h"
#include "pathping.h"

#define ALT_ON "\033[?1049h\033[?25l"	/* alternate screen, cursor hidden */
#define ALT_OFF "\033[?25h\033[?1049l"	/* cursor shown, main screen back */
#define HOME "\033[H"
#define EOL "\033[K"			/* clear to the end of the line */
#define EOS "\033[J"			/* ... of the screen */

/* The terminal as found, and ours: restored at the end, at exit and while
 * the job is stopped (Ctrl-Z), taken again when it continues. */
static struct termios saved, ours;
static volatile sig_atomic_t saved_valid, screen_on, resumed;

static void term_put(bool mine)
{
	if (saved_valid)
		tcsetattr(STDIN_FILENO, TCSANOW, mine ? &ours : &saved);
	if (screen_on && write(STDOUT_FILENO, mine ? ALT_ON : ALT_OFF,
			       mine ? sizeof(ALT_ON) - 1 : sizeof(ALT_OFF) - 1) < 0) {
		/* nothing left to do on a closed terminal */
	}
}

static void term_restore(void)
{
	term_put(false);
	saved_valid = 0;
	screen_on = 0;
}

static void on_stop(int sig)
{
	(void)sig;
	pp_stop = 1;
}

/* Ctrl-Z: the terminal back as found, then stopped the default way. */
static void on_tstp(int sig)
{
	int e = errno;

	term_put(false);
	signal(sig, SIG_DFL);
	raise(sig);	/* pending until this handler returns */
	errno = e;
}

/* fg: the next event takes the terminal again (and the handler back). */
static void on_cont(int sig)
{
	(void)sig;
	resumed = 1;
}

static void handlers(void)
{
	struct sigaction tstp = { .sa_handler = on_tstp }, cont = { .sa_handler = on_cont };

	sigemptyset(&tstp.sa_mask);
	sigemptyset(&cont.sa_mask);
	sigaction(SIGTSTP, &tstp, NULL);
	sigaction(SIGCONT, &cont, NULL);
}

int pp_live_begin(struct pp_live *lv, struct pp_result *res, const struct pp_opts *o)
{
	struct sigaction sa = { .sa_handler = on_stop };

	memset(lv, 0, sizeof(*lv));
	lv->res = res;
	lv->opts = o;
	lv->snap = malloc(sizeof(*lv->snap));
	if (!lv->snap)
		return -ENOMEM;
	sigemptyset(&sa.sa_mask);
	/* a hang-up or quit ends the run through the same path as SIGINT */
	if (sigaction(SIGHUP, &sa, NULL) < 0 || sigaction(SIGQUIT, &sa, NULL) < 0)
		return -errno;
	atexit(term_restore);
	/* keys only in the terminal's foreground: a background job that set
	 * the terminal's mode would be stopped (SIGTTOU) */
	if (isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp() &&
	    tcgetattr(STDIN_FILENO, &saved) == 0) {
		saved_valid = 1;
		ours = saved;
		ours.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		ours.c_cc[VMIN] = 0;	/* read() returns at once: polled per round */
		ours.c_cc[VTIME] = 0;
	}
	fflush(stdout);
	screen_on = 1;
	term_put(true);
	handlers();
	return 0;
}

/* Rows the terminal has, 0 if unknown. */
static unsigned term_rows(void)
{
	struct winsize ws;

	return ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_row : 0;
}

/* The report so far, drawn over the last one, cut to the window's height. */
static int draw(struct pp_live *lv)
{
	struct mp_writer *w = NULL;
	char *buf = NULL, *line, *nl;
	size_t len = 0;
	unsigned rows = term_rows(), n = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return -errno;
	memcpy(lv->snap, lv->res, sizeof(*lv->snap));
	lv->snap->duration_ns = mp_clock_real_ns() - lv->res->start_real_ns;
	pp_analyze(lv->snap);
	r = mp_writer_new(&w, MP_FMT_TEXT, f, "pathping", "pathping/3");
	if (r == 0) {
		/* coloured as the final report on this terminal will be */
		mp_writer_set_color(w, mp_color_for(stdout));
		r = pp_print(lv->snap, w, lv->opts->wide);
	}
	if (mp_writer_close(w) < 0 && r == 0)
		r = -EIO;
	fclose(f);
	if (r < 0) {
		free(buf);
		return r;
	}
	fputs(HOME, stdout);
	for (line = buf; *line && (!rows || n + 1 < rows); line = nl + 1, n++) {
		nl = strchr(line, '\n');
		if (!nl)
			break;
		fprintf(stdout, "%.*s" EOL "\n", (int)(nl - line), line);
	}
	fprintf(stdout, "round %" PRIu64 "; q to quit" EOL EOS, lv->res->rounds);
	fflush(stdout);
	free(buf);
	return ferror(stdout) ? -EIO : 0;
}

int pp_live_event(const struct pp_event *ev, void *ctx)
{
	struct pp_live *lv = ctx;
	struct pollfd in = { .fd = STDIN_FILENO, .events = POLLIN };
	char c;

	if (resumed) {
		resumed = 0;
		handlers();
		term_put(true);
		lv->drawn = false;
	}
	/* a round's probes come one after another: draw once the next begins */
	if (ev->round != lv->round || !lv->drawn) {
		lv->round = ev->round;
		lv->drawn = true;
		if (draw(lv) < 0)
			return -EIO;
	}
	/* poll first: a terminal set back to canonical mode behind our back
	 * would make read() wait for a whole line */
	while (saved_valid && poll(&in, 1, 0) == 1 && read(STDIN_FILENO, &c, 1) == 1)
		if (c == 'q' || c == 'Q')
			pp_stop = 1;
	return 0;
}

void pp_live_end(struct pp_live *lv)
{
	fflush(stdout);
	signal(SIGTSTP, SIG_DFL);
	signal(SIGCONT, SIG_DFL);
	term_restore();
	free(lv->snap);
	lv->snap = NULL;
}
