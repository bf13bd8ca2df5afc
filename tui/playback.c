/*
 * Stepping through a recorded session by exchange (tui/playback.h):
 * the boundaries of exchanges are found by walking the events, never
 * stored, so the functions stay pure and a session of any length costs
 * one pass per step.
 */
#include "tui/playback.h"

#include "history/history.h"
#include "tui/histcmd.h"

const unsigned playback_speeds[PLAYBACK_NSPEEDS] = {1, 2, 10};

/* A long pause in the original is shortened to this. */
#define PLAYBACK_MAX_GAP_US 5000000u

/* The end of the exchange whose reply ends at event r: r + 1 and the
 * notes that follow. */
static size_t
exchange_end(const struct histcmd_events *es, size_t r)
{
	size_t j = r + 1;

	while (j < es->n && es->v[j].dir == '*')
		j++;
	return j;
}

static int
is_reply_end(const struct histcmd_event *e)
{
	return e->dir == 'S' && (e->flags & HIST_EV_REPLY) != 0;
}

size_t
playback_next(const struct histcmd_events *es, size_t shown)
{
	size_t i;

	if (shown >= es->n)
		return es->n;
	for (i = shown; i < es->n; i++)
		if (is_reply_end(&es->v[i]))
			return exchange_end(es, i);
	return es->n;
}

size_t
playback_prev(const struct histcmd_events *es, size_t shown)
{
	size_t pos = 0, next;

	if (shown > es->n)
		shown = es->n;
	/* The last boundary before shown. */
	while ((next = playback_next(es, pos)) < shown && next > pos)
		pos = next;
	return pos;
}

size_t
playback_next_failure(const struct histcmd_events *es, size_t shown)
{
	size_t i;

	for (i = shown; i < es->n; i++)
		if (is_reply_end(&es->v[i]) && es->v[i].code >= 400)
			return exchange_end(es, i);
	return shown;
}

size_t
playback_count(const struct histcmd_events *es)
{
	size_t pos = 0, next, n = 0;

	while ((next = playback_next(es, pos)) > pos) {
		n++;
		pos = next;
	}
	return n;
}

size_t
playback_index(const struct histcmd_events *es, size_t shown)
{
	size_t pos = 0, next, n = 0;

	while (pos < shown && (next = playback_next(es, pos)) > pos) {
		n++;
		pos = next;
	}
	return n;
}

uint64_t
playback_delay_us(const struct histcmd_events *es, size_t shown, unsigned speed)
{
	uint64_t gap;

	if (shown == 0 || shown >= es->n)
		return 0;
	if (speed == 0)
		speed = 1;
	gap = es->v[shown].t_us > es->v[shown - 1].t_us
	    ? es->v[shown].t_us - es->v[shown - 1].t_us
	    : 0;
	if (gap > PLAYBACK_MAX_GAP_US)
		gap = PLAYBACK_MAX_GAP_US;
	return gap / speed;
}
