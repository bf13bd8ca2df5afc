/*
 * "Why?" in context: the cause of a 4xx/5xx in this session, where ehlo
 * can tell it from what was sent before (the rule broken and its RFC
 * section), to put before the general meaning of the reply.  Pure: it
 * reads the session's stages and capabilities, nothing else.
 */
#ifndef EHLO_PROTOCOL_WHY_H
#define EHLO_PROTOCOL_WHY_H

#include <stddef.h>

struct smtp_session;
struct smtp_stage;

/*
 * This session's cause for the reply of stage idx, as plain ASCII
 * sentences (no line breaks; wrap it to show it), in an allocated
 * string the caller frees; NULL when the stage has no 4xx/5xx reply or
 * ehlo cannot tell more than the reply's general meaning.  Causes: a
 * command out of order (no EHLO yet, RCPT before MAIL, DATA before an
 * accepted RCPT, nested MAIL), MAIL and the rest after STARTTLS without
 * a new EHLO (RFC 3207 4.2), AUTH or MAIL before STARTTLS on a server
 * that wants TLS, MAIL before AUTH on a submission server, a parameter
 * the EHLO reply did not advertise, a SIZE over the advertised limit,
 * and relaying without AUTH.
 */
char *smtp_why(const struct smtp_session *, size_t idx);
/* smtp_why() of the stage st of the session (NULL: not one of its). */
char *smtp_why_of(const struct smtp_session *, const struct smtp_stage *st);

/*
 * In a SASL exchange typed by hand (the session waits for a response
 * after 334): what the mechanism expects next.  *prompt gets a short
 * form for the input prompt ("sasl b64(\\0user\\0pass)> "); the
 * return value is a sentence for the dialogue, with the /auth shortcut
 * that does it for you (static strings).  NULL outside an exchange.
 */
const char *smtp_why_sasl(const struct smtp_session *, const char **prompt);

#endif
