/*
 * `ehlo export ID --format svg|html`: a recorded session drawn as a
 * sequence diagram.  Two lanes, client on the left and server on the
 * right; every command is an arrow to the right and every reply line an
 * arrow to the left, each with its time since the session began; ehlo's
 * own notes sit between the lanes.  A band behind the rows marks each
 * stage (greeting, EHLO, STARTTLS, TLS, AUTH, MAIL...), TLS and AUTH in
 * their own colours, and the lines of a message's content are folded
 * into one arrow.  Text comes from histcmd_event_text(), so it is
 * escaped and an AUTH line that is not marked redacted is never shown;
 * it is then XML-escaped.  The HTML form wraps the same SVG and adds,
 * for each reply, its explanation (protocol/explain.h) shown on click.
 * One self-contained file: no script, font or picture is fetched.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "protocol/explain.h"
#include "tui/export_svg.h"

#define SVG_W 960
#define SVG_CLIENT_X 170
#define SVG_SERVER_X 790
#define SVG_ROW 26
#define SVG_TOP 70
#define SVG_TEXT_MAX 80

/* Writes s XML-escaped (s is already free of control characters). */
static void
svg_escape(FILE *f, const char *s, size_t max)
{
	size_t n = 0;

	for (; *s != '\0' && n < max; s++, n++) {
		switch (*s) {
		case '&':
			(void)fputs("&amp;", f);
			break;
		case '<':
			(void)fputs("&lt;", f);
			break;
		case '>':
			(void)fputs("&gt;", f);
			break;
		case '"':
			(void)fputs("&quot;", f);
			break;
		default:
			(void)fputc(*s, f);
		}
	}
	if (*s != '\0')
		(void)fputs("...", f);
}

/* The band colour of a stage: TLS and AUTH stand out. */
static const char *
svg_band_colour(const char *stage)
{
	if (stage == NULL)
		return "#ffffff";
	if (strcmp(stage, "TLS") == 0 || strcmp(stage, "STARTTLS") == 0)
		return "#dff3e4";
	if (strcmp(stage, "AUTH") == 0)
		return "#fde9d0";
	if (strcmp(stage, "MAIL") == 0 || strcmp(stage, "RCPT") == 0 ||
	    strcmp(stage, "DATA") == 0 || strcmp(stage, "MESSAGE") == 0 ||
	    strcmp(stage, "BDAT") == 0)
		return "#e6eefb";
	return "#f3f3f3";
}

/* One row of the diagram: an event, or a fold of content lines. */
struct svg_row {
	const struct histcmd_event *e;
	size_t folded; /* content lines this row stands for (0: none) */
};

static size_t
svg_rows(const struct histcmd_events *es, struct svg_row *rows)
{
	size_t i, n = 0;

	for (i = 0; i < es->n; i++) {
		const struct histcmd_event *e = &es->v[i];

		if ((e->flags & HIST_EV_CONTENT) && n > 0 &&
		    rows[n - 1].folded > 0) {
			rows[n - 1].folded++;
			continue;
		}
		rows[n].e = e;
		rows[n].folded = (e->flags & HIST_EV_CONTENT) ? 1 : 0;
		n++;
	}
	return n;
}

/*
 * The band row r belongs to: a command opens its stage's band (the
 * greeting's reply opens the first), the handshake's note opens "TLS",
 * and reply lines and notes stay in the band they are in (cur).
 */
static const char *
svg_band_of(const struct svg_row *r, const char *cur)
{
	const struct histcmd_event *e = r->e;

	if (e->dir == 'C' && e->stage != NULL && r->folded == 0)
		return e->stage;
	if (e->dir == 'S' && e->stage != NULL && cur == NULL)
		return e->stage;
	if (e->dir == '*' && e->len >= 15 &&
	    strncmp(e->text, "TLS established", 15) == 0)
		return "TLS";
	return cur;
}

static void
svg_band(FILE *f, const char *stage, size_t from, size_t to, int tls)
{
	double y = SVG_TOP + (double)from * SVG_ROW - 18;

	(void)fprintf(f,
	    "<rect class=\"band\" x=\"10\" y=\"%.0f\" width=\"%d\" "
	    "height=\"%zu\" fill=\"%s\"/>\n",
	    y, SVG_W - 20, (to - from) * SVG_ROW, svg_band_colour(stage));
	(void)fprintf(f,
	    "<text class=\"stage\" x=\"%d\" y=\"%.0f\" "
	    "text-anchor=\"end\">",
	    SVG_W - 16, y + 13);
	svg_escape(f, stage != NULL ? stage : "", 20);
	if (stage != NULL && strcmp(stage, "AUTH") == 0)
		(void)fputs(" (secret redacted)", f);
	else if (tls && stage != NULL && strcmp(stage, "TLS") != 0)
		(void)fputs(" (in TLS)", f);
	(void)fputs("</text>\n", f);
}

static void
svg_row_draw(FILE *f, const struct svg_row *r, size_t i, int html)
{
	const struct histcmd_event *e = r->e;
	double y = SVG_TOP + (double)i * SVG_ROW;
	char *text = histcmd_event_text(e), label[64];

	(void)fprintf(f,
	    "<text class=\"time\" x=\"14\" y=\"%.0f\">%.3f s</text>\n", y,
	    (double)e->t_us / 1e6);
	if (r->folded > 0) {
		free(text);
		(void)snprintf(label, sizeof label,
		    "message content: %zu line%s", r->folded,
		    r->folded == 1 ? "" : "s");
		text = xstrdup(label);
	}
	if (e->dir == 'C' || e->dir == 'S') {
		int c = e->dir == 'C';
		int reply = !c && (e->flags & HIST_EV_REPLY);

		if (html && reply)
			(void)fprintf(f,
			    "<g class=\"reply\" data-explain=\"x%zu\">\n", i);
		(void)fprintf(f,
		    "<line class=\"%s\" x1=\"%d\" y1=\"%.0f\" x2=\"%d\" "
		    "y2=\"%.0f\" marker-end=\"url(#arrow)\"/>\n",
		    c ? "cmd" : "rpl", c ? SVG_CLIENT_X : SVG_SERVER_X, y + 4,
		    c ? SVG_SERVER_X : SVG_CLIENT_X, y + 4);
		(void)fprintf(f, "<text class=\"%s\" x=\"%d\" y=\"%.0f\">%s",
		    c ? "cmd" : "rpl", SVG_CLIENT_X + 8, y, c ? "C: " : "S: ");
		svg_escape(f, text, SVG_TEXT_MAX);
		(void)fputs("</text>\n", f);
		if (html && reply)
			(void)fputs("</g>\n", f);
	} else {
		(void)fprintf(f,
		    "<text class=\"note\" x=\"%d\" y=\"%.0f\" "
		    "text-anchor=\"middle\">* ",
		    (SVG_CLIENT_X + SVG_SERVER_X) / 2, y);
		svg_escape(f, text, SVG_TEXT_MAX);
		(void)fputs("</text>\n", f);
	}
	free(text);
}

static void
svg_draw(FILE *f, const struct hist_session *s, const struct histcmd_events *es,
    int html)
{
	struct svg_row *rows = xcalloc(es->n + 1, sizeof *rows);
	size_t n = svg_rows(es, rows), i, from = 0;
	const char *stage = NULL;
	int tls = 0;
	double h = SVG_TOP + (double)n * SVG_ROW + 20;

	(void)fprintf(f,
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
	    "height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
	    "font-family=\"monospace\" font-size=\"12\">\n",
	    SVG_W, h, SVG_W, h);
	(void)fputs("<title>SMTP session ", f);
	(void)fprintf(f, "#%lld with ", (long long)s->id);
	svg_escape(f, s->server != NULL ? s->server : "?", 200);
	(void)fputs("</title>\n<defs><marker id=\"arrow\" markerWidth=\"8\" "
	            "markerHeight=\"8\" refX=\"8\" refY=\"4\" "
	            "orient=\"auto\"><path d=\"M0,0 L8,4 L0,8 z\" "
	            "fill=\"#555\"/></marker></defs>\n"
	            "<style>.cmd{fill:#1a4f9c;stroke:#1a4f9c}"
	            ".rpl{fill:#7a2e0e;stroke:#7a2e0e}"
	            "line{stroke-width:1}text{stroke:none}"
	            ".note{fill:#666}.time{fill:#888}.stage{fill:#444}"
	            ".lane{stroke:#999;stroke-dasharray:4 3}</style>\n",
	    f);
	/* The bands first, so the rows draw over them. */
	for (i = 0; i <= n; i++) {
		const char *st = i < n ? svg_band_of(&rows[i], stage) : NULL;

		if (i < n && st != NULL && stage != NULL &&
		    strcmp(st, stage) == 0)
			continue;
		if (stage != NULL)
			svg_band(f, stage, from, i, tls);
		if (stage != NULL && strcmp(stage, "TLS") == 0)
			tls = 1;
		stage = st;
		from = i;
	}
	(void)fprintf(f,
	    "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" "
	    "font-weight=\"bold\">client (ehlo)</text>\n"
	    "<text x=\"%d\" y=\"24\" text-anchor=\"middle\" "
	    "font-weight=\"bold\">server ",
	    SVG_CLIENT_X, SVG_SERVER_X);
	svg_escape(f, s->server != NULL ? s->server : "?", 60);
	(void)fprintf(f, ":%d</text>\n", s->port);
	(void)fprintf(f,
	    "<line class=\"lane\" x1=\"%d\" y1=\"32\" x2=\"%d\" "
	    "y2=\"%.0f\"/>\n<line class=\"lane\" x1=\"%d\" y1=\"32\" "
	    "x2=\"%d\" y2=\"%.0f\"/>\n",
	    SVG_CLIENT_X, SVG_CLIENT_X, h - 10, SVG_SERVER_X, SVG_SERVER_X,
	    h - 10);
	for (i = 0; i < n; i++)
		svg_row_draw(f, &rows[i], i, html);
	(void)fputs("</svg>\n", f);
	free(rows);
}

/* The explanations of the replies, hidden until a reply is clicked. */
static void
html_explanations(FILE *f, const struct histcmd_events *es)
{
	struct svg_row *rows = xcalloc(es->n + 1, sizeof *rows);
	size_t n = svg_rows(es, rows), i;
	char q[32], *text;

	for (i = 0; i < n; i++) {
		const struct histcmd_event *e = rows[i].e;

		if (e->dir != 'S' || !(e->flags & HIST_EV_REPLY))
			continue;
		(void)snprintf(q, sizeof q, "%d %s", e->code, e->enhanced);
		if ((text = smtp_explain_text(q)) == NULL)
			continue;
		(void)fprintf(f, "<pre class=\"explain\" id=\"x%zu\">", i);
		svg_escape(f, text, strlen(text));
		(void)fputs("</pre>\n", f);
		free(text);
	}
	free(rows);
}

int
export_diagram(FILE *f, const struct hist_session *s,
    const struct histcmd_events *es, int html)
{
	if (!html) {
		(void)fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
		svg_draw(f, s, es, 0);
		return ferror(f) ? -1 : 0;
	}
	(void)fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	            "<meta charset=\"utf-8\">\n<title>SMTP session</title>\n"
	            "<style>body{font-family:sans-serif;margin:1em}"
	            ".explain{display:none;border:1px solid #aaa;"
	            "padding:.5em;background:#fafafa;white-space:pre-wrap}"
	            ".explain.shown{display:block}"
	            "g.reply{cursor:pointer}</style>\n</head>\n<body>\n",
	    f);
	(void)fprintf(f, "<h1>SMTP session #%lld with ", (long long)s->id);
	svg_escape(f, s->server != NULL ? s->server : "?", 200);
	(void)fputs("</h1>\n<p>Click a reply (S:) for its explanation. "
	            "Credentials are redacted.</p>\n",
	    f);
	svg_draw(f, s, es, 1);
	(void)fputs("<div id=\"explanations\">\n", f);
	html_explanations(f, es);
	(void)fputs("</div>\n<script>\n"
	            "document.querySelectorAll('g.reply').forEach(function(g)"
	            "{g.addEventListener('click',function(){"
	            "document.querySelectorAll('.explain.shown').forEach("
	            "function(p){p.classList.remove('shown');});"
	            "var p=document.getElementById(g.dataset.explain);"
	            "if(p){p.classList.add('shown');p.scrollIntoView();}});});"
	            "\n</script>\n</body>\n</html>\n",
	    f);
	return ferror(f) ? -1 : 0;
}
