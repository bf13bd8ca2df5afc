/*
 * The colour model of themes: xterm's palette as RGB, the nearest
 * xterm-256 colour to an RGB value (for "#rrggbb" in theme files), and
 * the mapping of a style down to what a terminal has (256, 16, 8 or no
 * colours).  Colours are abstract numbers (theme.h); nothing here knows
 * curses or theme files.
 */
#include <stdlib.h>

#include "themes/theme.h"

/* xterm's default RGB values for the 16 basic colours. */
static const unsigned char basic_rgb[16][3] = {{0x00, 0x00, 0x00},
    {0xcd, 0x00, 0x00}, {0x00, 0xcd, 0x00}, {0xcd, 0xcd, 0x00},
    {0x00, 0x00, 0xee}, {0xcd, 0x00, 0xcd}, {0x00, 0xcd, 0xcd},
    {0xe5, 0xe5, 0xe5}, {0x7f, 0x7f, 0x7f}, {0xff, 0x00, 0x00},
    {0x00, 0xff, 0x00}, {0xff, 0xff, 0x00}, {0x5c, 0x5c, 0xff},
    {0xff, 0x00, 0xff}, {0x00, 0xff, 0xff}, {0xff, 0xff, 0xff}};

static void
color_rgb(int c, unsigned rgb[3])
{
	static const unsigned level[6] = {0, 95, 135, 175, 215, 255};
	int i;

	if (c < 16) {
		for (i = 0; i < 3; i++)
			rgb[i] = basic_rgb[c][i];
	} else if (c < 232) {
		rgb[0] = level[(c - 16) / 36];
		rgb[1] = level[(c - 16) / 6 % 6];
		rgb[2] = level[(c - 16) % 6];
	} else {
		rgb[0] = rgb[1] = rgb[2] = (unsigned)(8 + 10 * (c - 232));
	}
}

/* The colour in lo..hi nearest to rgb (squared distance; ties: lowest). */
static int
nearest(const unsigned rgb[3], int lo, int hi)
{
	unsigned long best = (unsigned long)-1, d;
	unsigned c[3];
	int i, k, found = lo;
	long diff;

	for (i = lo; i <= hi; i++) {
		color_rgb(i, c);
		d = 0;
		for (k = 0; k < 3; k++) {
			diff = (long)rgb[k] - (long)c[k];
			d += (unsigned long)(diff * diff);
		}
		if (d < best) {
			best = d;
			found = i;
		}
	}
	return found;
}

int
theme_color_from_rgb(unsigned r, unsigned g, unsigned b)
{
	unsigned rgb[3];

	rgb[0] = r > 255 ? 255 : r;
	rgb[1] = g > 255 ? 255 : g;
	rgb[2] = b > 255 ? 255 : b;
	return nearest(rgb, 16, 255);
}

/* A grey (given its 0..255 value) as one of the 16 colours. */
static int
grey16(unsigned v)
{
	if (v < 60)
		return 0;
	if (v < 145)
		return 8;
	if (v < 215)
		return 7;
	return 15;
}

/*
 * 16..255 as one of the 16 basic colours, by hue and lightness rather
 * than RGB distance (xterm's basic colours are so saturated that plain
 * distance turns every pastel into grey).  Cube colours with little
 * saturation count as greys; otherwise the channels above the midpoint
 * of the strongest and weakest pick the colour, and a full-strength or
 * pale colour is the bright form.
 */
static int
to16(int c)
{
	int l[3], mx, mn, i, out = 0;
	unsigned rgb[3];

	if (c < 16)
		return c;
	color_rgb(c, rgb);
	if (c >= 232)
		return grey16(rgb[0]);
	l[0] = (c - 16) / 36;
	l[1] = (c - 16) / 6 % 6;
	l[2] = (c - 16) % 6;
	mx = mn = l[0];
	for (i = 1; i < 3; i++) {
		mx = l[i] > mx ? l[i] : mx;
		mn = l[i] < mn ? l[i] : mn;
	}
	if (mx - mn <= 1 || (mn >= 3 && mx - mn <= 2))
		return grey16((rgb[0] + rgb[1] + rgb[2]) / 3);
	for (i = 0; i < 3; i++)
		if (2 * l[i] > mx + mn)
			out |= 1 << i;
	return mx == 5 || mn >= 2 ? out + 8 : out;
}

/* 0..15 as one of the 8: bright-X becomes X, bright-black white. */
static int
to8(int c)
{
	if (c < 8)
		return c;
	return c == 8 ? 7 : c - 8;
}

/* Black or white, whichever is easier to read on bg. */
static int
contrast(int bg, int ncolours)
{
	unsigned rgb[3];

	color_rgb(bg, rgb);
	if (299 * rgb[0] + 587 * rgb[1] + 114 * rgb[2] > 128 * 1000)
		return 0;
	return ncolours >= 16 ? 15 : 7;
}

struct theme_style
theme_degrade(struct theme_style s, int ncolours)
{
	struct theme_style out = s;
	int differ, bright = 0;

	if (ncolours >= 256)
		return s;
	if (ncolours < 8) {
		out.fg = out.bg = THEME_COLOR_DEFAULT;
		return out;
	}
	differ = s.fg >= 0 && s.bg >= 0 && s.fg != s.bg;
	if (s.fg >= 0) {
		out.fg = to16(s.fg);
		if (ncolours < 16) {
			bright = out.fg >= 8;
			out.fg = to8(out.fg);
		}
	}
	if (s.bg >= 0)
		out.bg = ncolours < 16 ? to8(to16(s.bg)) : to16(s.bg);
	if (differ && out.fg == out.bg) {
		out.fg = contrast(out.bg, ncolours);
		return out;
	}
	if (bright)
		out.attrs |= to16(s.fg) == 8 ? THEME_ATTR_DIM : THEME_ATTR_BOLD;
	return out;
}

int
theme_no_color(void)
{
	const char *v = getenv("NO_COLOR");

	return v != NULL && v[0] != '\0';
}
