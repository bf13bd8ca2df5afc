/*
 * The knowledge base: what SMTP replies, enhanced status codes and
 * commands mean, for learners and for admins reading a live session.
 *
 * RFCs: 5321 (4.2.1 reply theory, 4.2.2-4.2.5 the codes, 3.5 VRFY and
 * EXPN, 4.1.1 the commands), 3463 (enhanced status codes) and the IANA
 * "SMTP Enhanced Status Codes" registry (5248 and the extensions that
 * added to it: 3886, 4468, 4954, 6531, 6710, 7293, 7372, 7505, 8617,
 * 8689), 2034 (ENHANCEDSTATUSCODES), 3207 (STARTTLS), 4954 (AUTH), 1870
 * (SIZE), 3030 (CHUNKING/BDAT), 1985 (ETRN), 7504 (521 and 556), 2920
 * (PIPELINING).
 *
 * The data is five const tables of struct smtp_explain: reply classes
 * ("5xx"), reply codes ("550"), enhanced classes ("5.X.X"), enhanced
 * codes keyed by the registry's class-independent form ("X.1.1") and
 * command verbs ("VRFY").  A sixth table maps (verb, code, enhanced)
 * pairs with a well-known meaning to the short phrase the stage pane
 * shows.  Every text is plain ASCII so a column is a byte; the
 * formatter wraps at word boundaries and never exceeds the width.
 * Where real servers answer differently (Postfix, aiosmtpd, smtp-sink,
 * sendmail; see notes/real-servers.md) the "servers" field says so.
 */
#include "protocol/explain.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "protocol/command.h"

/* ---- reply classes (the first digit) ------------------------------ */

static const struct smtp_explain reply_classes[] = {
    {.key = "2xx",
        .title = "Positive completion: the request succeeded",
        .meaning = "The server did what was asked.  A new command may be "
                   "sent.  The second digit says what the reply is about: "
                   "x0x syntax, x1x information (status, help), x2x the "
                   "connection, x5x the mail system.",
        .action = "Go on with the next step of the conversation.",
        .rfc = "RFC 5321 4.2.1"},
    {.key = "3xx",
        .title = "Positive intermediate: send more",
        .meaning = "The server accepted the command so far and is waiting "
                   "for more: the message content after 354, or the next "
                   "step of a SASL exchange after 334.  Nothing is final "
                   "yet.",
        .action = "Send what the server asks for (the message, ended by a "
                  "line with a single dot, or the next base64 SASL line).",
        .rfc = "RFC 5321 4.2.1"},
    {.key = "4xx",
        .title = "Transient negative: try again later",
        .meaning = "The command failed this time, but the condition is "
                   "temporary.  The same command may succeed later, and a "
                   "mail server that queues the message keeps retrying "
                   "(typically for several days).  The second digit says "
                   "what the reply is about: x0x syntax, x2x connection, "
                   "x5x mail system.",
        .causes = "Greylisting, rate limits, a full disk, a lookup that "
                  "timed out, a server that is restarting or overloaded.",
        .action = "Wait and retry; do not treat it as a bounce.  If it "
                  "persists for hours, read the text part of the reply: it "
                  "usually names the reason.",
        .rfc = "RFC 5321 4.2.1, 4.5.4.1"},
    {.key = "5xx",
        .title = "Permanent negative: do not repeat as is",
        .meaning = "The command failed and sending it again unchanged will "
                   "fail again.  For a recipient this becomes a bounce.  "
                   "The second digit says what the reply is about: x0x "
                   "syntax, x3x/x4x unspecified, x5x the mail system "
                   "(mailboxes, policy).",
        .causes = "Unknown mailbox, policy refusal (relaying, spam, "
                  "authentication), a syntax error, a command the server "
                  "does not implement.",
        .action = "Change something first: the address, the command, the "
                  "credentials, the message.  The enhanced status code "
                  "(5.x.x) and the text say what.",
        .rfc = "RFC 5321 4.2.1"},
};

/* ---- basic reply codes ------------------------------------------- */

static const struct smtp_explain reply_codes[] = {
    {.key = "211",
        .title = "System status, or system help reply",
        .meaning = "An informational reply about the server itself, "
                   "usually to HELP without an argument.",
        .causes = "HELP, or a server-specific status request.",
        .action = "Read it; nothing else is needed.",
        .servers = "Rare in practice: most servers answer HELP with 214, "
                   "aiosmtpd with 250, and Postfix does not implement HELP "
                   "at all (500 5.5.2).",
        .rfc = "RFC 5321 4.2.2, 4.2.3"},
    {.key = "214",
        .title = "Help message",
        .meaning = "Human-readable help: how to use the server or what a "
                   "command does.  Meant for a person, not a program.",
        .causes = "HELP, or HELP with a command name.",
        .action = "Read it; it may list the commands the server knows.",
        .servers = "Sendmail answers HELP with 214 lines; aiosmtpd uses "
                   "250 \"Supported commands: ...\"; Postfix and smtp-sink "
                   "reply 500 because they do not implement HELP.",
        .rfc = "RFC 5321 4.2.2, 4.2.3, 4.1.1.8"},
    {.key = "220",
        .title = "Service ready",
        .meaning = "As the first reply on a connection (the greeting) it "
                   "means the server is ready to talk SMTP; the text starts "
                   "with the server's name and often says ESMTP.  As the "
                   "reply to STARTTLS (RFC 3207) it means: start the TLS "
                   "handshake now, on this same connection.",
        .causes = "Connecting to the server; sending STARTTLS.",
        .action = "After the greeting, send EHLO (or HELO for very old "
                  "servers).  After STARTTLS, do the TLS handshake, then "
                  "send EHLO again: everything learned before TLS is "
                  "forgotten (RFC 3207 4.2).",
        .servers = "Some servers delay the greeting on purpose (a tarpit) "
                   "and refuse clients that talk before it arrives.  A "
                   "multi-line greeting (220-...) is legal.  A firewall "
                   "that masks SMTP may show 220 ****** with asterisks.",
        .rfc = "RFC 5321 3.1, 4.2.2, 4.2.3; RFC 3207 4"},
    {.key = "221",
        .title = "Closing the connection (goodbye)",
        .meaning = "The server is ending the session and will close the "
                   "connection.  It is the normal answer to QUIT.",
        .causes = "QUIT.  Some servers also send 221 when they end a "
                  "session for their own reasons.",
        .action = "Nothing: the session is over.  Open a new connection "
                  "to go on.",
        .servers = "Postfix says 221 2.0.0 Bye; aiosmtpd 221 Bye.",
        .rfc = "RFC 5321 3.8, 4.2.2, 4.2.3, 4.1.1.10"},
    {.key = "235",
        .title = "Authentication succeeded",
        .meaning = "The SASL exchange started by AUTH worked: the session "
                   "is now authenticated as the user whose credentials were "
                   "given, usually with the right to relay mail.",
        .causes = "AUTH with correct credentials.",
        .action = "Go on with MAIL FROM.  Do not send AUTH again: a second "
                  "AUTH is refused with 503.",
        .servers = "Postfix: 235 2.7.0 Authentication successful.  "
                   "smtp-sink does not check anything and answers AUTH "
                   "with a plain 250, which proves nothing.",
        .rfc = "RFC 4954 4, 6"},
    {.key = "250",
        .title = "Requested action completed (OK)",
        .meaning = "The command worked.  To EHLO the lines after the first "
                   "list the server's extensions; to MAIL the sender is "
                   "accepted; to RCPT this recipient is accepted; after the "
                   "final dot the server has taken responsibility for the "
                   "message (queued or delivered).",
        .causes = "Any command that succeeded.",
        .action = "Go on with the next command.",
        .servers = "250 is not always a promise: smtp-sink answers 250 to "
                   "everything, including VRFY of unknown users; and some "
                   "servers accept every RCPT and bounce later "
                   "(accept-then-bounce).  Postfix adds enhanced codes: "
                   "2.1.0 for MAIL, 2.1.5 for RCPT, 2.0.0 for the rest, "
                   "with \"queued as ID\" after the message.",
        .rfc = "RFC 5321 4.2.2, 4.2.3"},
    {.key = "251",
        .title = "User not local; will forward",
        .meaning = "The recipient is not hosted here, but the server knows "
                   "where it moved and will forward the message itself.  "
                   "To ETRN (RFC 1985) 251 means: no messages are waiting "
                   "for that node.",
        .causes = "RCPT to an address the server forwards; ETRN for a "
                  "domain with an empty queue.",
        .action = "Nothing is required; update your address book to the "
                  "forward-path the text gives, if any.",
        .servers = "Almost never seen today: forwarding happens silently "
                   "with a plain 250.",
        .rfc = "RFC 5321 3.4, 4.2.2, 4.2.3; RFC 1985 5"},
    {.key = "252",
        .title = "Cannot verify the user, but will try delivery",
        .meaning = "The server will not (or cannot) confirm whether the "
                   "address exists, but would accept a message for it and "
                   "try to deliver.  It is the honest answer to VRFY when "
                   "the server does not want to reveal its users.  To "
                   "ETRN it means: a queue run for the node has started.",
        .causes = "VRFY (or EXPN) on a server that protects its user "
                  "list; ETRN.",
        .action = "Treat it as \"unknown\", not as \"exists\".  The only "
                  "real test is RCPT TO inside a transaction (and even that "
                  "may be accepted and bounced later).",
        .servers = "Postfix answers VRFY of a known address with 252 2.0.0 "
                   "(never 250) and of an unknown one with 550 5.1.1; "
                   "stock aiosmtpd answers 252 for any address; smtp-sink "
                   "says 250 to everything.  RFC 5321 says 250 must only "
                   "be used after a real check.",
        .rfc = "RFC 5321 3.5.3, 4.2.2, 4.2.3, 7.3"},
    {.key = "253",
        .title = "Queue run started; messages are waiting (ETRN)",
        .meaning = "The reply to ETRN: the server started delivering the "
                   "messages it holds for the node, and says how many.",
        .causes = "ETRN for a domain the server queues mail for.",
        .action = "Wait for the connections from the server to your "
                  "host.",
        .rfc = "RFC 1985 5"},
    {.key = "334",
        .title = "Server challenge: send the next SASL step",
        .meaning = "During AUTH the server is waiting for the client's "
                   "next line.  The text after 334 is a base64 challenge: "
                   "for LOGIN it decodes to \"Username:\" or \"Password:\", "
                   "for CRAM-MD5 to a nonce, for PLAIN it is empty.",
        .causes = "AUTH with a mechanism that needs more than one step, "
                  "or AUTH PLAIN without an initial response.",
        .action = "Send one base64 line with the answer, or a single \"*\" "
                  "to cancel the exchange (the server then replies 501).",
        .servers = "aiosmtpd's LOGIN prompts decode to \"User Name\" and "
                   "\"Password\" with a trailing NUL; Postfix (Cyrus SASL) "
                   "sends \"Username:\" and \"Password:\".",
        .rfc = "RFC 4954 4"},
    {.key = "354",
        .title = "Start mail input; end with a lone dot",
        .meaning = "The reply to DATA: the server now reads the message "
                   "(headers, blank line, body) line by line until a line "
                   "that holds only a dot.  Nothing is accepted yet; the "
                   "real verdict comes after the dot.",
        .causes = "DATA after at least one accepted recipient.",
        .action = "Send the message.  A line of your message that starts "
                  "with a dot must be sent with an extra dot "
                  "(dot-stuffing); the server removes it.  End with "
                  "CRLF . CRLF.",
        .servers = "Postfix: 354 End data with <CR><LF>.<CR><LF>.  "
                   "Servers send no enhanced code with 354: enhanced "
                   "classes exist only for 2xx, 4xx and 5xx.",
        .rfc = "RFC 5321 4.1.1.4, 4.2.2, 4.2.3, 4.5.2"},
    {.key = "421",
        .title = "Service not available, closing the connection",
        .meaning = "The server is shutting this session down and will "
                   "close the connection, whatever command was sent.  It "
                   "may come as the greeting, as the reply to any command, "
                   "or unprompted.",
        .causes = "Too many errors in the session, too many connections "
                  "from your address, the server shutting down, a timeout "
                  "on the server side, a blocklist or rate limit.",
        .action = "Reconnect later.  If it names \"too many errors\", fix "
                  "the commands that failed first.  Mail servers queue "
                  "and retry.",
        .servers = "Postfix sends 421 4.7.0 Error: too many errors after "
                   "its hard error limit (20 by default) and closes; "
                   "smtp-sink -Q CMD sends 421 and disconnects on purpose.",
        .rfc = "RFC 5321 3.8, 4.2.2, 4.2.3"},
    {.key = "432",
        .title = "Password transition needed",
        .meaning = "The user must authenticate once with a plain-text "
                   "mechanism (over TLS) so the server can convert the "
                   "stored password for the mechanism that was tried.",
        .causes = "AUTH with a mechanism such as CRAM-MD5 for an account "
                  "whose password is stored only in another form.",
        .action = "Authenticate once with PLAIN or LOGIN over TLS, then "
                  "the other mechanism works.",
        .servers = "Very rare in practice.",
        .rfc = "RFC 4954 6 (4.7.12)"},
    {.key = "450",
        .title = "Mailbox unavailable (temporary)",
        .meaning = "The requested action on a mailbox was not taken this "
                   "time: the mailbox is busy or blocked for now.  Unlike "
                   "550 this is worth retrying.",
        .causes = "Greylisting (the classic 450 4.7.1 or 450 4.2.0 that "
                  "goes away on retry after a few minutes), a mailbox "
                  "locked by another process, a recipient lookup that "
                  "failed temporarily, a policy server that was not "
                  "reachable.",
        .action = "Retry after a few minutes; a queueing mail server does "
                  "this by itself.  If it never clears, read the text.",
        .servers = "Postfix uses 450 4.x.x for temporary recipient and "
                   "client checks (e.g. an unknown client hostname whose "
                   "DNS failed); smtp-sink -r CMD answers 450 on purpose.",
        .rfc = "RFC 5321 4.2.2, 4.2.3"},
    {.key = "451",
        .title = "Local error in processing (temporary)",
        .meaning = "The server hit a problem on its side and aborted the "
                   "action.  Nothing is wrong with the request itself.",
        .causes = "A queue file that could not be written, a content "
                  "filter or virus scanner that is down, a database or DNS "
                  "lookup that failed, a server misconfiguration.",
        .action = "Retry later.  If it persists, tell the server's admin: "
                  "the cause is on their side.",
        .servers = "Postfix: 451 4.3.0 Error: queue file write error, or "
                   "4.3.5 for a configuration problem.  Some servers also "
                   "use 451 4.7.1 for greylisting.",
        .rfc = "RFC 5321 4.2.2, 4.2.3"},
    {.key = "452",
        .title = "Insufficient system storage (temporary)",
        .meaning = "The server cannot take the message (or this recipient) "
                   "now: it is short of space, or the transaction has "
                   "reached its limit of recipients.",
        .causes = "A full spool disk (4.3.1); to MAIL with SIZE= a "
                  "message bigger than the free space (RFC 1870); to RCPT "
                  "too many recipients in one transaction (4.5.3).",
        .action = "For too many recipients: deliver this transaction, then "
                  "send the remaining recipients in a new one.  Otherwise "
                  "retry later.",
        .servers = "Postfix: 452 4.3.1 Insufficient system storage, and "
                   "452 4.5.3 Error: too many recipients (after "
                   "smtpd_recipient_limit).",
        .rfc = "RFC 5321 4.2.2, 4.2.3, 4.5.3.1.10; RFC 1870 6"},
    {.key = "454",
        .title = "TLS or authentication temporarily unavailable",
        .meaning = "To STARTTLS (RFC 3207): TLS cannot be started right "
                   "now.  To AUTH (RFC 4954): authentication failed for a "
                   "temporary reason on the server side, not because of "
                   "the credentials.",
        .causes = "A missing or unreadable certificate or key on the "
                  "server, a broken TLS library, an authentication back end "
                  "(LDAP, SQL, saslauthd) that is down.",
        .action = "Retry later; do not send secrets over a connection "
                  "that failed to start TLS.  If it persists, the server "
                  "admin must check their certificate or SASL setup.",
        .servers = "Postfix: 454 4.7.0 TLS not available due to local "
                   "problem (look at its log for the real reason).",
        .rfc = "RFC 3207 4; RFC 4954 6 (4.7.0)"},
    {.key = "455",
        .title = "Server cannot accommodate the parameters now",
        .meaning = "The MAIL FROM or RCPT TO parameters are understood but "
                   "cannot be honoured at the moment.",
        .causes = "An ESMTP parameter that asks for something the server "
                  "cannot provide right now.",
        .action = "Retry later, or send without that parameter.",
        .servers = "Rarely used.",
        .rfc = "RFC 5321 4.2.2, 4.2.3"},
    {.key = "458",
        .title = "Unable to queue messages for the node (ETRN)",
        .meaning = "The server could not start a queue run for the domain "
                   "named in ETRN.",
        .causes = "ETRN while the queue manager is busy or unavailable.",
        .action = "Retry ETRN later.",
        .rfc = "RFC 1985 5"},
    {.key = "459",
        .title = "Node not allowed (ETRN)",
        .meaning = "The server refuses to run its queue for the domain "
                   "named in ETRN.",
        .causes = "ETRN for a domain the server does not hold mail for, "
                  "or from a client not allowed to ask.",
        .action = "Check the domain, or ask the server admin to allow "
                  "your host.",
        .rfc = "RFC 1985 5"},
    {.key = "500",
        .title = "Syntax error, command unrecognised",
        .meaning = "The server did not understand the command at all (an "
                   "unknown verb), or the line was too long.  RFC 4954 "
                   "also uses it (with 5.5.6) for an AUTH line that is too "
                   "long.",
        .causes = "A typo, a command the server does not know (EXPN, VERB "
                  "or HELP on many servers), a line over 512 octets, "
                  "talking SMTP to something else (HTTP, POP3).",
        .action = "Check the spelling and the command.  For an extension, "
                  "look at what EHLO advertised.",
        .servers = "Postfix answers unknown commands, EXPN, VERB and HELP "
                   "with 500 5.5.2 Error: command not recognized; "
                   "smtp-sink with 500 5.5.1; aiosmtpd uses 500 for VERB "
                   "but 502 for EXPN.  RFC 5321 wants 500 for unknown "
                   "commands and 502 for known but unimplemented ones.",
        .rfc = "RFC 5321 4.2.2, 4.2.3, 4.2.4; RFC 4954 4"},
    {.key = "501",
        .title = "Syntax error in parameters or arguments",
        .meaning = "The verb is known but what follows it is wrong: a "
                   "malformed address, a missing argument, or an argument "
                   "where none is allowed.",
        .causes = "MAIL FROM:addr without angle brackets, a space after "
                  "the colon on strict servers, EHLO without a name, "
                  "STARTTLS with an argument (RFC 3207), AUTH data that is "
                  "not valid base64 or an exchange cancelled with \"*\" "
                  "(RFC 4954).",
        .action = "Fix the arguments: MAIL FROM:<a@example.org>, RCPT "
                  "TO:<b@example.org>, EHLO your.name.",
        .servers = "Postfix: 501 5.1.7 Bad sender address syntax, 501 "
                   "5.5.4 Syntax: EHLO hostname, 501 5.5.2 for base64 "
                   "errors in AUTH.",
        .rfc = "RFC 5321 4.2.2, 4.2.3; RFC 3207 4; RFC 4954 4"},
    {.key = "502",
        .title = "Command not implemented",
        .meaning = "The server recognises the command but does not "
                   "implement it, or has switched it off.",
        .causes = "VRFY or EXPN disabled for privacy, HELP or TURN not "
                  "supported.",
        .action = "Do without it.  For VRFY/EXPN, RCPT TO inside a "
                  "transaction is the only practical check.",
        .servers = "aiosmtpd: 502 EXPN not implemented.  Postfix with "
                   "disable_vrfy_command=yes: 502 5.5.1 VRFY command is "
                   "disabled.  Postfix uses 500, not 502, for commands it "
                   "never implemented (EXPN, HELP).",
        .rfc = "RFC 5321 4.2.2, 4.2.3, 4.2.4"},
    {.key = "503",
        .title = "Bad sequence of commands",
        .meaning = "The command is valid but not now: the conversation is "
                   "not in a state where it is allowed.",
        .causes = "RCPT before MAIL, DATA before any accepted RCPT, MAIL "
                  "twice, MAIL before EHLO on strict servers, AUTH twice "
                  "or during a transaction, STARTTLS when TLS is already "
                  "active.",
        .action = "Send the missing step first (EHLO, MAIL FROM, RCPT "
                  "TO), or RSET to start the transaction over.",
        .servers = "MAIL before EHLO: aiosmtpd 503 Error: send HELO first, "
                   "but Postfix and smtp-sink accept it with 250 (Postfix "
                   "only refuses with smtpd_helo_required=yes).  DATA "
                   "without recipients: aiosmtpd and smtp-sink 503, "
                   "Postfix 554 5.5.1.  Second AUTH: 503 5.5.1.",
        .rfc = "RFC 5321 4.1.4, 4.2.2, 4.2.3"},
    {.key = "504",
        .title = "Command parameter not implemented",
        .meaning = "The command is known but the parameter or option given "
                   "is not supported.",
        .causes = "AUTH with a mechanism the server does not offer; a "
                  "command option the server does not know.",
        .action = "Use one of the mechanisms or options EHLO advertised.",
        .servers = "RFC 4954 suggests 504 5.5.4 for an unknown AUTH "
                   "mechanism; some servers answer 535 instead, which "
                   "looks like a wrong password but is not.",
        .rfc = "RFC 5321 4.2.2, 4.2.3; RFC 4954 4"},
    {.key = "521",
        .title = "Host does not accept mail",
        .meaning = "This host never accepts mail (it is not a mail server "
                   "for anyone); sent as the greeting or to every command.",
        .causes = "Connecting to a host that publishes no mail service, a "
                  "web server with an SMTP port that only says no.",
        .action = "Do not retry.  Check the MX records: you probably "
                  "reached the wrong host.",
        .rfc = "RFC 7504"},
    {.key = "530",
        .title = "Authentication (or STARTTLS) required",
        .meaning = "The server will not go on until the client "
                   "authenticates (RFC 4954, 5.7.0) or, with STARTTLS, "
                   "until the connection is encrypted (RFC 3207: Must issue "
                   "a STARTTLS command first).",
        .causes = "MAIL on a submission port before AUTH; AUTH or MAIL "
                  "in plain text on a server that requires TLS first.",
        .action = "Send STARTTLS (then EHLO again), then AUTH, then MAIL.",
        .servers = "Postfix with smtpd_tls_security_level=encrypt: 530 "
                   "5.7.0 Must issue a STARTTLS command first.",
        .rfc = "RFC 4954 6; RFC 3207 4"},
    {.key = "534",
        .title = "Authentication mechanism is too weak",
        .meaning = "The server will not accept this SASL mechanism for "
                   "this user (policy wants a stronger one).",
        .causes = "AUTH PLAIN or LOGIN where the server insists on a "
                  "challenge-response or token mechanism.",
        .action = "Use a stronger mechanism from the EHLO AUTH list.",
        .rfc = "RFC 4954 6 (5.7.9)"},
    {.key = "535",
        .title = "Authentication credentials invalid",
        .meaning = "The SASL exchange completed, but the user name or "
                   "password (or token) is wrong.",
        .causes = "A wrong password; a user name that needs the domain "
                  "(user@example.org) or must not have it; an expired "
                  "OAuth token; an account locked after failures.",
        .action = "Check the user name form and the secret.  Repeated "
                  "failures may get your address blocked for a while.",
        .servers = "Postfix and aiosmtpd: 535 5.7.8.  smtp-sink does not "
                   "check credentials and replies 250 to AUTH.",
        .rfc = "RFC 4954 6 (5.7.8)"},
    {.key = "538",
        .title = "Encryption required for this AUTH mechanism",
        .meaning = "This mechanism sends the secret in a form that must "
                   "not travel unencrypted, so the server wants TLS first.",
        .causes = "AUTH PLAIN or LOGIN before STARTTLS.",
        .action = "Send STARTTLS, EHLO again, then AUTH.",
        .servers = "Many servers instead simply omit AUTH from the EHLO "
                   "reply until TLS is active (Postfix with "
                   "smtpd_tls_auth_only=yes).",
        .rfc = "RFC 4954 6 (5.7.11)"},
    {.key = "550",
        .title = "Mailbox unavailable or action refused",
        .meaning = "The requested action was not taken and will not be "
                   "with this request.  Usually: the mailbox does not exist "
                   "(5.1.1) or policy refuses the message or the sender "
                   "(5.7.1).",
        .causes = "An unknown user, a typo in the address, a disabled "
                  "account, relaying refused, the sender or your IP on a "
                  "blocklist, a failed SPF/DKIM/DMARC check, content "
                  "rejected as spam.",
        .action = "Read the enhanced code: 5.1.x means the address, 5.7.x "
                  "means policy.  Fix the address, or contact the "
                  "recipient's postmaster through another path.",
        .servers = "To VRFY: Postfix answers 550 5.1.1 for an unknown "
                   "address, aiosmtpd 252 for all, smtp-sink 250 for all.  "
                   "Some servers say 550 to RCPT only after DATA "
                   "(accept-then-reject).",
        .rfc = "RFC 5321 4.2.2, 4.2.3"},
    {.key = "551",
        .title = "User not local; try another path",
        .meaning = "The recipient is not here; the server names where it "
                   "went but will not forward it for you.",
        .causes = "A mailbox that moved; the text gives the new address.",
        .action = "Send to the address in the reply text instead.",
        .servers = "Rare: most servers reply 550 for moved users, or "
                   "forward silently.",
        .rfc = "RFC 5321 3.4, 4.2.2, 4.2.3"},
    {.key = "552",
        .title = "Exceeded storage allocation",
        .meaning = "The message is too big: for the server (MAIL with "
                   "SIZE=, RFC 1870, usually 5.3.4) or for this mailbox "
                   "(quota, 5.2.2; size limit, 5.2.3).  Historically also "
                   "used for too many recipients.",
        .causes = "A big attachment; SIZE= above the limit EHLO "
                  "advertised; a recipient's full mailbox.",
        .action = "Send a smaller message (link to big files instead of "
                  "attaching them).  For a full mailbox, reach the person "
                  "another way.",
        .servers = "Postfix and aiosmtpd answer MAIL ... SIZE= over the "
                   "limit with 552 (Postfix 552 5.3.4 Message size exceeds "
                   "fixed limit); smtp-sink has no limit and says 250.",
        .rfc = "RFC 5321 4.2.2, 4.2.3; RFC 1870 6"},
    {.key = "553",
        .title = "Mailbox name not allowed",
        .meaning = "The address is refused as a name: its syntax is wrong, "
                   "or the server does not allow that address here.  To "
                   "VRFY it means the name is ambiguous.",
        .causes = "A malformed address, a sender address the "
                  "authenticated user may not use, a non-ASCII address "
                  "without SMTPUTF8.",
        .action = "Check the address syntax and that you may send as that "
                  "sender.",
        .servers = "Postfix: 553 5.7.1 Sender address rejected: not owned "
                   "by user (smtpd_sender_login_maps).",
        .rfc = "RFC 5321 3.5.3, 4.2.2, 4.2.3"},
    {.key = "554",
        .title = "Transaction failed (or no SMTP service)",
        .meaning = "As the greeting: this server will not talk to you at "
                   "all (no SMTP service here).  After the final dot: the "
                   "message is refused.  To RCPT or DATA: refused by "
                   "policy, or no valid recipients.",
        .causes = "Your IP on a blocklist (greeting 554), relaying refused "
                  "(554 5.7.1), spam or virus content, DATA when every "
                  "RCPT was refused (554 5.5.1).",
        .action = "Read the text and the enhanced code.  For a blocklist, "
                  "check your IP's reputation; for relaying, authenticate "
                  "or use the right server.",
        .servers = "Postfix: 554 5.7.1 <addr>: Relay access denied to RCPT "
                   "for a foreign domain; 554 5.5.1 Error: no valid "
                   "recipients to DATA (aiosmtpd and smtp-sink use 503 "
                   "there).",
        .rfc = "RFC 5321 3.1, 3.3, 4.2.2, 4.2.3"},
    {.key = "555",
        .title = "MAIL/RCPT parameters not recognised",
        .meaning = "MAIL FROM or RCPT TO carried an ESMTP parameter the "
                   "server does not know or does not implement.",
        .causes = "A parameter the server did not advertise in EHLO "
                  "(SMTPUTF8, RET=, NOTIFY=...), a typo in a parameter "
                  "name, parameters after HELO (not EHLO).",
        .action = "Send only the parameters EHLO advertised.",
        .servers = "Postfix: 555 5.5.4 Unsupported option: FOO=BAR; "
                   "aiosmtpd 555; smtp-sink ignores them and says 250.",
        .rfc = "RFC 5321 4.2.2, 4.2.3"},
    {.key = "556",
        .title = "Domain does not accept mail",
        .meaning = "The recipient's domain publishes that it receives no "
                   "mail at all (a null MX, RFC 7505); a relay says so "
                   "instead of trying.",
        .causes = "Sending to a domain whose MX record is \".\".",
        .action = "Do not retry: the address cannot receive mail.",
        .rfc = "RFC 7504; RFC 7505"},
};

/* ---- enhanced status code classes (RFC 3463 2) -------------------- */

static const struct smtp_explain enhanced_classes[] = {
    {.key = "2.X.X",
        .title = "Success",
        .meaning = "An enhanced code starting with 2 reports success; the "
                   "subject and detail say what succeeded (2.1.0 sender "
                   "OK, 2.1.5 recipient OK, 2.6.0 message accepted, 2.7.0 "
                   "authenticated, 2.0.0 plain OK).",
        .action = "Nothing to fix.",
        .rfc = "RFC 3463 2; RFC 2034"},
    {.key = "4.X.X",
        .title = "Persistent transient failure",
        .meaning = "The request was valid but a temporary condition "
                   "stopped it.  Sending the same thing later may work; a "
                   "mail server keeps the message queued and retries.",
        .action = "Retry later.  The subject digit says what kind of "
                  "problem (1 address, 2 mailbox, 3 mail system, 4 "
                  "network, 5 protocol, 6 content, 7 security/policy).",
        .rfc = "RFC 3463 2"},
    {.key = "5.X.X",
        .title = "Permanent failure",
        .meaning = "The request cannot succeed as it is; resending it "
                   "unchanged will fail again.  For a recipient this "
                   "becomes a bounce (a non-delivery report).",
        .action = "Change something first.  The subject digit says what "
                  "(1 address, 2 mailbox, 3 mail system, 4 network, 5 "
                  "protocol, 6 content, 7 security/policy).",
        .rfc = "RFC 3463 2"},
};

/* ---- enhanced status codes (RFC 3463 3 and the IANA registry) ----- */

static const struct smtp_explain enhanced_codes[] = {
    /* X.0.x: other or undefined */
    {.key = "X.0.0",
        .title = "Other or undefined status",
        .meaning = "Only the class is known: 2.0.0 is a plain OK, 4.0.0 a "
                   "temporary and 5.0.0 a permanent failure with no more "
                   "precise reason.",
        .action = "Read the reply text and the basic code for details.",
        .servers = "Postfix sends 2.0.0 for most successes (RSET, NOOP, "
                   "QUIT, \"queued as\" after the message) and for VRFY's "
                   "252.",
        .rfc = "RFC 3463 3.1"},
    /* X.1.x: addressing */
    {.key = "X.1.0",
        .title = "Other address status",
        .meaning = "Something about an address (sender or recipient) "
                   "caused this status.  As 2.1.0 it is the usual \"sender "
                   "OK\" after MAIL FROM.",
        .action = "Check the addresses in the envelope.",
        .servers = "Postfix answers an accepted MAIL FROM with 250 2.1.0 "
                   "Ok.",
        .rfc = "RFC 3463 3.2"},
    {.key = "X.1.1",
        .title = "Bad destination mailbox address",
        .meaning = "The recipient's mailbox does not exist at the "
                   "destination: the part before the @ is unknown.  As "
                   "4.1.1 the server could not check it right now.",
        .causes = "A typo in the user name, a person who left, a deleted "
                  "alias.",
        .action = "Check the spelling of the address; ask the person for "
                  "their current address.",
        .servers = "Postfix: 550 5.1.1 <addr>: Recipient address rejected: "
                   "User unknown (in virtual mailbox table) to RCPT, and "
                   "the same code to VRFY of an unknown user.",
        .rfc = "RFC 3463 3.2"},
    {.key = "X.1.2",
        .title = "Bad destination system address",
        .meaning = "The part after the @ is wrong: the domain does not "
                   "exist or cannot receive mail.",
        .causes = "A misspelled domain, an expired domain, a domain with "
                  "no MX and no address records.",
        .action = "Check the domain name (dig MX domain).",
        .rfc = "RFC 3463 3.2"},
    {.key = "X.1.3",
        .title = "Bad destination mailbox address syntax",
        .meaning = "The recipient address is not a valid address at all.",
        .causes = "Missing angle brackets, spaces or forbidden characters, "
                  "an address without a domain.",
        .action = "Send RCPT TO:<user@example.org>.",
        .rfc = "RFC 3463 3.2"},
    {.key = "X.1.4",
        .title = "Destination mailbox address ambiguous",
        .meaning = "The address matches more than one mailbox and the "
                   "server will not guess.",
        .causes = "A partial name given to VRFY or RCPT on a server that "
                  "does fuzzy matching.",
        .action = "Use the full, exact address.",
        .rfc = "RFC 3463 3.2"},
    {.key = "X.1.5",
        .title = "Destination address valid",
        .meaning = "The recipient address is fine.  Mostly seen as 2.1.5, "
                   "the normal reply to an accepted RCPT TO.",
        .servers = "Postfix answers an accepted RCPT TO with 250 2.1.5 Ok.",
        .rfc = "RFC 3463 3.2"},
    {.key = "X.1.6",
        .title = "Mailbox has moved, no forwarding address",
        .meaning = "The mailbox once existed here but is gone, and the "
                   "server knows no new address.",
        .action = "Find the person's new address another way.",
        .rfc = "RFC 3463 3.2"},
    {.key = "X.1.7",
        .title = "Bad sender's mailbox address syntax",
        .meaning = "The address in MAIL FROM is not a valid address.",
        .causes = "Missing angle brackets, a bare name without a domain, "
                  "spaces inside the address.",
        .action = "Send MAIL FROM:<you@example.org> (or <> for a "
                  "bounce).",
        .servers = "Postfix: 501 5.1.7 Bad sender address syntax.",
        .rfc = "RFC 3463 3.2"},
    {.key = "X.1.8",
        .title = "Bad sender's system address",
        .meaning = "The domain of the MAIL FROM address is unusable: it "
                   "does not exist or cannot receive replies.",
        .causes = "A made-up sender domain; a test domain; DNS problems "
                  "for the sender's domain (then 4.1.8).",
        .action = "Use a sender address in a real domain you control.",
        .servers = "Postfix reject_unknown_sender_domain: 450 4.1.8 or 550 "
                   "5.1.8 Sender address rejected: Domain not found.",
        .rfc = "RFC 3463 3.2"},
    {.key = "X.1.9",
        .title = "Message relayed to non-compliant mailer",
        .meaning = "The address was valid and the message was passed on, "
                   "but to a system that cannot report further status.",
        .rfc = "RFC 3886"},
    {.key = "X.1.10",
        .title = "Recipient address has null MX",
        .meaning = "The recipient's domain publishes a null MX: it says "
                   "it accepts no mail at all.",
        .action = "Do not retry; the address cannot receive mail.",
        .rfc = "RFC 7505"},
    /* X.2.x: mailbox */
    {.key = "X.2.0",
        .title = "Other or undefined mailbox status",
        .meaning = "The mailbox exists but something about it stopped the "
                   "delivery.",
        .rfc = "RFC 3463 3.3"},
    {.key = "X.2.1",
        .title = "Mailbox disabled, not accepting messages",
        .meaning = "The mailbox exists but is switched off, temporarily "
                   "(4.2.1) or for good (5.2.1).",
        .causes = "A suspended or deactivated account.",
        .action = "Reach the person another way.",
        .rfc = "RFC 3463 3.3"},
    {.key = "X.2.2",
        .title = "Mailbox full",
        .meaning = "The recipient is over quota.  RFC 3463 treats it as "
                   "transient (4.2.2), but many servers send 552 5.2.2.",
        .causes = "A mailbox nobody empties.",
        .action = "Retry later or tell the person another way.",
        .rfc = "RFC 3463 3.3"},
    {.key = "X.2.3",
        .title = "Message length exceeds administrative limit",
        .meaning = "The message is bigger than this mailbox (not the whole "
                   "server) accepts.",
        .action = "Send a smaller message.",
        .rfc = "RFC 3463 3.3"},
    {.key = "X.2.4",
        .title = "Mailing list expansion problem",
        .meaning = "The address is a mailing list that could not be "
                   "expanded to its members.",
        .causes = "A broken list definition, a list with no members.",
        .action = "Tell the list owner.",
        .rfc = "RFC 3463 3.3"},
    /* X.3.x: mail system */
    {.key = "X.3.0",
        .title = "Other or undefined mail system status",
        .meaning = "The destination system normally accepts mail but "
                   "something on it stopped this one.",
        .servers = "Postfix: 451 4.3.0 Error: queue file write error, and "
                   "4.3.0 for other temporary internal errors.",
        .rfc = "RFC 3463 3.4"},
    {.key = "X.3.1",
        .title = "Mail system full",
        .meaning = "The server's storage (the spool, not one mailbox) is "
                   "full.",
        .action = "Retry later; the admin must free space.",
        .servers = "Postfix: 452 4.3.1 Insufficient system storage.",
        .rfc = "RFC 3463 3.4"},
    {.key = "X.3.2",
        .title = "System not accepting network messages",
        .meaning = "The host is not taking mail now (shutting down, "
                   "maintenance) or ever.",
        .action = "Retry later (4.3.2) or use another server (5.3.2).",
        .rfc = "RFC 3463 3.4"},
    {.key = "X.3.3",
        .title = "System not capable of selected features",
        .meaning = "The message asks for a feature the destination does "
                   "not have.",
        .causes = "8-bit content to a server without 8BITMIME, a DSN "
                  "request the next hop cannot honour.",
        .action = "Send without that feature (e.g. encode 8-bit content "
                  "as quoted-printable).",
        .rfc = "RFC 3463 3.4"},
    {.key = "X.3.4",
        .title = "Message too big for system",
        .meaning = "The message is larger than the whole server accepts "
                   "(as opposed to 5.2.3, a per-mailbox limit).",
        .causes = "A big attachment; SIZE= above the EHLO SIZE value.",
        .action = "Make the message smaller; EHLO's SIZE shows the limit.",
        .servers = "Postfix: 552 5.3.4 Message size exceeds fixed limit, "
                   "to MAIL with SIZE= or after the data.",
        .rfc = "RFC 3463 3.4; RFC 1870"},
    {.key = "X.3.5",
        .title = "System incorrectly configured",
        .meaning = "The server is misconfigured for this message; the "
                   "problem is on the server's side.",
        .action = "Tell the server's admin.",
        .servers = "Postfix: 451 4.3.5 Server configuration error (its "
                   "log says which setting).",
        .rfc = "RFC 3463 3.4"},
    {.key = "X.3.6",
        .title = "Requested priority was changed",
        .meaning = "The message was accepted, but with another priority "
                   "than the MT-PRIORITY parameter asked for.",
        .rfc = "RFC 6710"},
    /* X.4.x: network and routing */
    {.key = "X.4.0",
        .title = "Other or undefined network or routing status",
        .meaning = "A network or routing problem with no more precise "
                   "code.",
        .rfc = "RFC 3463 3.5"},
    {.key = "X.4.1",
        .title = "No answer from host",
        .meaning = "The next hop could not be reached: the connection was "
                   "refused or timed out.  Mostly seen in bounces.",
        .action = "Check that the destination host is up and reachable on "
                  "port 25.",
        .rfc = "RFC 3463 3.5"},
    {.key = "X.4.2",
        .title = "Bad connection",
        .meaning = "The connection was made but broke during the "
                   "transaction.",
        .causes = "A dropped connection, a timeout mid-session, a "
                  "middlebox that interferes.",
        .action = "Retry; if it repeats, look for firewalls or MTU "
                  "problems.",
        .rfc = "RFC 3463 3.5"},
    {.key = "X.4.3",
        .title = "Directory server failure",
        .meaning = "A lookup service needed for routing failed, usually "
                   "DNS.",
        .action = "Retry later (4.4.3); check the DNS of the domains "
                  "involved.",
        .rfc = "RFC 3463 3.5"},
    {.key = "X.4.4",
        .title = "Unable to route",
        .meaning = "The system could not find where to send the message.",
        .causes = "No MX or address records for the domain, a routing "
                  "table without an entry.",
        .action = "Check the recipient domain's DNS.",
        .rfc = "RFC 3463 3.5"},
    {.key = "X.4.5",
        .title = "Mail system congestion",
        .meaning = "The system is too busy to take the message now.",
        .action = "Retry later.",
        .rfc = "RFC 3463 3.5"},
    {.key = "X.4.6",
        .title = "Routing loop detected",
        .meaning = "The message went round in circles: too many Received: "
                   "headers, or a forwarding loop.",
        .causes = "Two servers each thinking the other is the "
                  "destination; a forward that points back.",
        .action = "Fix the MX, alias or forwarding setup.",
        .rfc = "RFC 3463 3.5"},
    {.key = "X.4.7",
        .title = "Delivery time expired",
        .meaning = "The message waited in a queue too long and the sending "
                   "system gave up.  Seen in bounces, not in replies.",
        .action = "Find out why the destination was unreachable for days.",
        .rfc = "RFC 3463 3.5"},
    /* X.5.x: mail delivery protocol */
    {.key = "X.5.0",
        .title = "Other or undefined protocol status",
        .meaning = "A protocol problem with no more precise code.",
        .rfc = "RFC 3463 3.6"},
    {.key = "X.5.1",
        .title = "Invalid command",
        .meaning = "The command is not valid here: out of sequence or not "
                   "supported.",
        .causes = "RCPT before MAIL, a second AUTH, DATA without "
                  "recipients.",
        .action = "Send the commands in order: EHLO, MAIL, RCPT, DATA.",
        .servers = "Postfix uses 503 5.5.1 for order errors and 554 5.5.1 "
                   "Error: no valid recipients for DATA; smtp-sink sends "
                   "5.5.1 with every 500.",
        .rfc = "RFC 3463 3.6"},
    {.key = "X.5.2",
        .title = "Syntax error",
        .meaning = "The command could not be understood.",
        .causes = "An unknown verb, a typo.",
        .action = "Check the command.",
        .servers = "Postfix: 500 5.5.2 Error: command not recognized, "
                   "also for EXPN, VERB and HELP which it does not "
                   "implement.",
        .rfc = "RFC 3463 3.6"},
    {.key = "X.5.3",
        .title = "Too many recipients",
        .meaning = "The transaction has more recipients than the server "
                   "takes at once.  As 4.5.3 with 452: send the rest in "
                   "another transaction.",
        .action = "Deliver what was accepted, then start a new "
                  "transaction for the others.",
        .servers = "Postfix: 452 4.5.3 Error: too many recipients.",
        .rfc = "RFC 3463 3.6; RFC 5321 4.5.3.1.10"},
    {.key = "X.5.4",
        .title = "Invalid command arguments",
        .meaning = "The command is valid but its arguments are not: an "
                   "unknown parameter, a bad value, an argument where none "
                   "is allowed.",
        .causes = "MAIL FROM with a parameter the server did not "
                  "advertise, EHLO without a name, an unknown AUTH "
                  "mechanism.",
        .action = "Send only parameters EHLO advertised, with valid "
                  "values.",
        .servers = "Postfix: 555 5.5.4 Unsupported option: FOO=BAR.",
        .rfc = "RFC 3463 3.6"},
    {.key = "X.5.5",
        .title = "Wrong protocol version",
        .meaning = "The two sides could not agree on a protocol version.",
        .rfc = "RFC 3463 3.6"},
    {.key = "X.5.6",
        .title = "Authentication exchange line is too long",
        .meaning = "A line of the AUTH exchange was longer than the server "
                   "accepts (sent with 500).",
        .causes = "A huge initial response, e.g. a long OAuth token on "
                  "the AUTH line.",
        .action = "Send the response after the 334 prompt instead of on "
                  "the AUTH line.",
        .rfc = "RFC 4954 6"},
    /* X.6.x: message content or media */
    {.key = "X.6.0",
        .title = "Other or undefined media error",
        .meaning = "Something about the content caused the status.  As "
                   "2.6.0 it simply means the message was accepted: "
                   "Microsoft Exchange, for example, answers the final dot "
                   "with 250 2.6.0 Queued mail for delivery.",
        .servers = "Postfix answers the final dot with 2.0.0 (queued as "
                   "ID) instead.",
        .rfc = "RFC 3463 3.7"},
    {.key = "X.6.1",
        .title = "Media not supported",
        .meaning = "The content uses a media type or encoding the "
                   "destination does not support.",
        .action = "Send the content in a more common form.",
        .rfc = "RFC 3463 3.7"},
    {.key = "X.6.2",
        .title = "Conversion required and prohibited",
        .meaning = "The message would have to be converted for delivery, "
                   "but conversion is not allowed.",
        .rfc = "RFC 3463 3.7"},
    {.key = "X.6.3",
        .title = "Conversion required but not supported",
        .meaning = "The message would have to be converted, and the "
                   "system cannot do that conversion.",
        .causes = "8-bit content to a 7-bit-only path.",
        .rfc = "RFC 3463 3.7"},
    {.key = "X.6.4",
        .title = "Conversion with loss performed",
        .meaning = "The message was converted and lost something on the "
                   "way (usually a warning, 2.6.4).",
        .rfc = "RFC 3463 3.7"},
    {.key = "X.6.5",
        .title = "Conversion failed",
        .meaning = "A needed conversion of the content did not work.",
        .rfc = "RFC 3463 3.7"},
    {.key = "X.6.6",
        .title = "Message content not available",
        .meaning = "Content referenced by URL (BURL) could not be fetched "
                   "from the IMAP server.",
        .rfc = "RFC 4468"},
    {.key = "X.6.7",
        .title = "Non-ASCII addresses not permitted",
        .meaning = "An address with non-ASCII characters was used where "
                   "that is not allowed.",
        .causes = "A UTF-8 address without SMTPUTF8 on MAIL FROM, or to a "
                  "server that did not advertise SMTPUTF8.",
        .action = "Add SMTPUTF8 to MAIL FROM when the server offers it; "
                  "else use an ASCII address.",
        .rfc = "RFC 6531"},
    {.key = "X.6.8",
        .title = "UTF-8 reply required but not permitted",
        .meaning = "The server needs to answer in UTF-8 but the client did "
                   "not ask for SMTPUTF8.",
        .rfc = "RFC 6531"},
    {.key = "X.6.9",
        .title = "UTF-8 header cannot be transferred",
        .meaning = "The message has UTF-8 headers and a recipient's path "
                   "cannot carry them, so it is refused.",
        .rfc = "RFC 6531"},
    {.key = "X.6.10",
        .title = "Deprecated duplicate of X.6.8",
        .meaning = "Registered as a duplicate of X.6.8 (a UTF-8 reply was "
                   "required but not permitted) and deprecated.",
        .rfc = "RFC 6531"},
    /* X.7.x: security or policy */
    {.key = "X.7.0",
        .title = "Other or undefined security status",
        .meaning = "A security or policy condition with no more precise "
                   "code.  2.7.0 means authentication succeeded (235); "
                   "4.7.0 is a temporary refusal (TLS not available, "
                   "too many errors, a temporary AUTH failure); 5.7.0 "
                   "often means authentication or TLS is required.",
        .servers = "Postfix: 235 2.7.0 Authentication successful; 454 "
                   "4.7.0 TLS not available due to local problem; 421 "
                   "4.7.0 Error: too many errors; 530 5.7.0 Must issue a "
                   "STARTTLS command first.",
        .rfc = "RFC 3463 3.8; RFC 4954 6"},
    {.key = "X.7.1",
        .title = "Delivery not authorized, message refused",
        .meaning = "Policy forbids this: the sender may not send to this "
                   "recipient through this server.  As 4.7.1 the refusal "
                   "is temporary (often greylisting or rate limiting).",
        .causes = "Relaying (a recipient in a foreign domain without "
                  "AUTH), a blocklisted client IP, sender restrictions, "
                  "spam filtering, greylisting (4.7.1).",
        .action = "For relaying: authenticate, or send to the recipient "
                  "domain's own MX.  For blocklists: check your IP's "
                  "reputation.  For 4.7.1: retry after a few minutes.",
        .servers = "Postfix: 554 5.7.1 <addr>: Relay access denied to "
                   "RCPT; 553 5.7.1 for a sender not owned by the user; "
                   "550 5.7.1 from access tables.",
        .rfc = "RFC 3463 3.8"},
    {.key = "X.7.2",
        .title = "Mailing list expansion prohibited",
        .meaning = "The sender may not send to this list (or use EXPN on "
                   "it).",
        .action = "Ask the list owner for permission.",
        .rfc = "RFC 3463 3.8"},
    {.key = "X.7.3",
        .title = "Security conversion required but not possible",
        .meaning = "Delivery needs a security conversion (e.g. of an "
                   "encrypted message) that cannot be done.",
        .rfc = "RFC 3463 3.8"},
    {.key = "X.7.4",
        .title = "Security features not supported",
        .meaning = "The message asks for security features the delivery "
                   "path does not support.",
        .rfc = "RFC 3463 3.8"},
    {.key = "X.7.5",
        .title = "Cryptographic failure",
        .meaning = "A cryptographic check or decryption failed, for "
                   "example for lack of a key.",
        .rfc = "RFC 3463 3.8"},
    {.key = "X.7.6",
        .title = "Cryptographic algorithm not supported",
        .meaning = "The message uses a cryptographic algorithm the system "
                   "does not support.",
        .rfc = "RFC 3463 3.8"},
    {.key = "X.7.7",
        .title = "Message integrity failure",
        .meaning = "The message failed an integrity check: it was "
                   "changed or damaged in transit.",
        .rfc = "RFC 3463 3.8"},
    {.key = "X.7.8",
        .title = "Authentication credentials invalid",
        .meaning = "AUTH failed because the user name or secret is wrong "
                   "(sent with 535).",
        .causes = "A wrong password, a wrong user name form, an expired "
                  "token.",
        .action = "Check the credentials; after repeated failures some "
                  "servers block your address for a while.",
        .servers = "Postfix and aiosmtpd: 535 5.7.8.",
        .rfc = "RFC 4954 6"},
    {.key = "X.7.9",
        .title = "Authentication mechanism is too weak",
        .meaning = "Policy refuses this SASL mechanism (sent with 534).",
        .action = "Use a stronger mechanism from the AUTH list.",
        .rfc = "RFC 4954 6"},
    {.key = "X.7.10",
        .title = "Encryption needed",
        .meaning = "An encrypted connection (TLS) is needed before this "
                   "can go on; meant for plain-text authentication.",
        .action = "Send STARTTLS first, then EHLO and AUTH again.",
        .rfc = "RFC 5248"},
    {.key = "X.7.11",
        .title = "Encryption required for this mechanism",
        .meaning = "This AUTH mechanism may only be used over TLS (sent "
                   "with 538).",
        .action = "Send STARTTLS first.",
        .rfc = "RFC 4954 6"},
    {.key = "X.7.12",
        .title = "A password transition is needed",
        .meaning = "Authenticate once with a plain-text mechanism over "
                   "TLS so the server can convert the password (sent with "
                   "432).",
        .rfc = "RFC 4954 6"},
    {.key = "X.7.13",
        .title = "User account disabled",
        .meaning = "The credentials are right but the account is disabled "
                   "(or the recipient's account is, in some servers' "
                   "use).",
        .action = "Contact the provider to reactivate the account.",
        .rfc = "RFC 5248"},
    {.key = "X.7.14",
        .title = "Trust relationship required",
        .meaning = "The server only accepts this from a client it has a "
                   "configured trust relationship with.",
        .rfc = "RFC 5248"},
    {.key = "X.7.15",
        .title = "Priority level is too low",
        .meaning = "The MT-PRIORITY given is below what this server "
                   "accepts now.",
        .rfc = "RFC 6710"},
    {.key = "X.7.16",
        .title = "Message too big for the specified priority",
        .meaning = "At this MT-PRIORITY the message is too large; a lower "
                   "size or another priority may work.",
        .rfc = "RFC 6710"},
    {.key = "X.7.17",
        .title = "Mailbox owner has changed",
        .meaning = "The Require-Recipient-Valid-Since check failed: the "
                   "mailbox changed hands after the date the sender gave.",
        .rfc = "RFC 7293"},
    {.key = "X.7.18",
        .title = "Domain owner has changed",
        .meaning = "The Require-Recipient-Valid-Since check failed for the "
                   "whole domain.",
        .rfc = "RFC 7293"},
    {.key = "X.7.19",
        .title = "RRVS test cannot be completed",
        .meaning = "The server could not evaluate the "
                   "Require-Recipient-Valid-Since request.",
        .rfc = "RFC 7293"},
    {.key = "X.7.20",
        .title = "No passing DKIM signature found",
        .meaning = "Local policy wants a valid DKIM signature and the "
                   "message has none that verifies.",
        .action = "Sign outgoing mail with DKIM and check the DNS key "
                  "record; make sure nothing changes the message after "
                  "signing.",
        .rfc = "RFC 7372"},
    {.key = "X.7.21",
        .title = "No acceptable DKIM signature found",
        .meaning = "There are valid DKIM signatures, but none acceptable "
                   "to local policy (wrong domain, weak key).",
        .rfc = "RFC 7372"},
    {.key = "X.7.22",
        .title = "No valid author-matched DKIM signature",
        .meaning = "No valid DKIM signature matches the domain in the "
                   "From: header.",
        .action = "Sign with the From: domain (this is what DMARC "
                  "alignment needs).",
        .rfc = "RFC 7372"},
    {.key = "X.7.23",
        .title = "SPF validation failed",
        .meaning = "The sending IP is not allowed by the SPF record of the "
                   "MAIL FROM (or HELO) domain.",
        .action = "Add the sending server to the domain's SPF record, or "
                  "send through a server it lists.",
        .rfc = "RFC 7372"},
    {.key = "X.7.24",
        .title = "SPF validation error",
        .meaning = "The SPF check could not be completed: a DNS error or "
                   "a broken SPF record (4.7.24 temporary, 5.7.24 "
                   "permanent).",
        .action = "Check the SPF record syntax and its DNS lookups.",
        .rfc = "RFC 7372"},
    {.key = "X.7.25",
        .title = "Reverse DNS validation failed",
        .meaning = "The client's IP has no matching reverse DNS (PTR) "
                   "name, and policy requires one.",
        .action = "Set a PTR record for the sending IP that resolves back "
                  "to the same IP.",
        .rfc = "RFC 7372"},
    {.key = "X.7.26",
        .title = "Multiple authentication checks failed",
        .meaning = "More than one check failed (typically SPF and DKIM, "
                   "so DMARC fails).",
        .action = "Fix SPF and DKIM for the sending domain; check DMARC "
                  "alignment.",
        .servers = "Gmail uses 5.7.26 for unauthenticated mail that fails "
                   "DMARC.",
        .rfc = "RFC 7372"},
    {.key = "X.7.27",
        .title = "Sender address has null MX",
        .meaning = "The MAIL FROM domain publishes a null MX: it receives "
                   "no mail, so bounces could not be returned.",
        .action = "Use a sender address whose domain accepts mail.",
        .rfc = "RFC 7505"},
    {.key = "X.7.28",
        .title = "Mail flood detected",
        .meaning = "The message looks like part of a flood of similar, "
                   "unwanted messages; often temporary (4.7.28) and tied "
                   "to rate limits.",
        .action = "Slow down; check the sender for abuse.",
        .rfc = "IANA enhanced status code registry"},
    {.key = "X.7.29",
        .title = "ARC validation failure",
        .meaning = "The message's ARC (Authenticated Received Chain) "
                   "headers did not validate.",
        .rfc = "RFC 8617"},
    {.key = "X.7.30",
        .title = "REQUIRETLS support required",
        .meaning = "The message asked for REQUIRETLS and the next hop does "
                   "not support it, so it cannot be passed on.",
        .rfc = "RFC 8689"},
};

/*
 * ---- commands --------------------------------------------------------
 * For a verb the fields read: meaning = what it does, causes = when it
 * is legal, action = the replies to expect and what they mean.
 */

static const struct smtp_explain verbs[] = {
    {.key = "EHLO",
        .title = "Extended hello: identify and list extensions",
        .meaning = "Opens the conversation: the client gives its own host "
                   "name and the server answers 250 with one extension per "
                   "line (SIZE, PIPELINING, STARTTLS, AUTH, 8BITMIME, "
                   "SMTPUTF8, CHUNKING...).  It also resets any "
                   "transaction in progress.",
        .causes = "After the 220 greeting, and again after a successful "
                  "STARTTLS (the old capabilities no longer count).",
        .action = "250 with the capability list.  500/502: an old server "
                  "without ESMTP; use HELO.  501: the name was refused.",
        .servers = "Postfix lists PIPELINING, SIZE, VRFY, ETRN, STARTTLS, "
                   "AUTH, ENHANCEDSTATUSCODES, 8BITMIME, DSN, SMTPUTF8 and "
                   "CHUNKING; aiosmtpd does not offer PIPELINING; "
                   "smtp-sink offers no SIZE and no STARTTLS.",
        .rfc = "RFC 5321 4.1.1.1"},
    {.key = "HELO",
        .title = "Old-style hello (no extensions)",
        .meaning = "The RFC 821 greeting: identifies the client but asks "
                   "for no extensions, so no STARTTLS, AUTH, SIZE or "
                   "PIPELINING can be used afterwards.",
        .causes = "After the 220 greeting; use it only when EHLO is "
                  "refused.",
        .action = "250 with the server's name.",
        .rfc = "RFC 5321 4.1.1.1"},
    {.key = "STARTTLS",
        .title = "Upgrade the connection to TLS",
        .meaning = "Asks to encrypt the connection from here on.  After "
                   "220 the client starts the TLS handshake on the same "
                   "socket, checks the certificate, and sends EHLO again.",
        .causes = "After EHLO, when the server advertised STARTTLS and no "
                  "TLS is active yet; no argument.",
        .action = "220: start the handshake.  454: TLS unavailable for "
                  "now.  501: an argument was given.  503: TLS is already "
                  "on.  Any bytes the server sends between 220 and the "
                  "handshake are an injection attack and must be dropped.",
        .servers = "smtp-sink offers no STARTTLS; Postfix offers it when a "
                   "certificate is configured.  Port 465 uses implicit TLS "
                   "instead (RFC 8314): no STARTTLS there.",
        .rfc = "RFC 3207 4"},
    {.key = "AUTH",
        .title = "Log in with a SASL mechanism",
        .meaning = "Authenticates the client, usually so it may relay "
                   "(submit) mail.  AUTH PLAIN sends user and password in "
                   "one base64 line; LOGIN asks for them in two steps; "
                   "CRAM-MD5 answers a challenge without sending the "
                   "password.",
        .causes = "After EHLO, outside a transaction, when AUTH was "
                  "advertised; once per session.  Normally only after "
                  "STARTTLS, since PLAIN and LOGIN are readable by anyone "
                  "on the path.",
        .action = "334: send the next base64 step (\"*\" cancels).  235: "
                  "authenticated.  535: wrong credentials.  534: "
                  "mechanism too weak.  538: needs TLS.  454: temporary "
                  "failure.  503: already authenticated.",
        .servers = "Postfix and aiosmtpd check credentials (535 5.7.8 on "
                   "failure); smtp-sink answers 250 to any AUTH without "
                   "checking.",
        .rfc = "RFC 4954 4"},
    {.key = "MAIL",
        .title = "Start a message: name the sender",
        .meaning = "MAIL FROM:<address> starts a transaction and gives the "
                   "envelope sender, where bounces go (<> for none, as in "
                   "bounces themselves).  ESMTP parameters may follow: "
                   "SIZE=, BODY=8BITMIME, SMTPUTF8, RET=, ENVID=.",
        .causes = "After EHLO/HELO, when no transaction is open (after "
                  "the previous message's final reply, or after RSET).",
        .action = "250: the transaction started.  503: out of order.  "
                  "501: address syntax.  552: SIZE too big.  555: a "
                  "parameter the server does not know.  530: log in "
                  "first.",
        .servers = "MAIL before EHLO: Postfix and smtp-sink accept it with "
                   "250, aiosmtpd refuses with 503.  Unknown parameters: "
                   "Postfix 555 5.5.4, smtp-sink ignores them.",
        .rfc = "RFC 5321 4.1.1.2"},
    {.key = "RCPT",
        .title = "Name one recipient",
        .meaning = "RCPT TO:<address> adds one recipient to the envelope; "
                   "repeat it for each.  The envelope, not the To: header, "
                   "decides where the message goes (that is how Bcc "
                   "works).",
        .causes = "After a MAIL FROM that was accepted; any number of "
                  "times before DATA.",
        .action = "250 (or 251): accepted.  550 5.1.1: no such mailbox.  "
                  "554/550 5.7.1: relaying or policy refused.  450/451: "
                  "try later (greylisting).  452: too many recipients.",
        .servers = "A recipient in a domain the server does not handle: "
                   "Postfix 554 5.7.1 Relay access denied unless you "
                   "authenticated; smtp-sink accepts everything.",
        .rfc = "RFC 5321 4.1.1.3"},
    {.key = "DATA",
        .title = "Send the message content",
        .meaning = "Asks to send the message itself: headers, a blank "
                   "line, the body, then a line with a single dot.  The "
                   "reply after the dot is the one that counts.",
        .causes = "After at least one accepted RCPT; no argument.",
        .action = "354: send the content (dot-stuff lines that start with "
                  "a dot).  After the dot: 250 accepted, 5xx rejected, 4xx "
                  "try later.  503 or 554 to DATA itself: no valid "
                  "recipient.",
        .servers = "DATA without valid recipients: Postfix 554 5.5.1, "
                   "aiosmtpd 503, smtp-sink 503 5.5.1.",
        .rfc = "RFC 5321 4.1.1.4, 4.5.2"},
    {.key = "BDAT",
        .title = "Send the message in sized chunks",
        .meaning = "BDAT size [LAST] sends exactly size octets of the "
                   "message, as they are: no dot at the end and no "
                   "dot-stuffing.  The chunk marked LAST ends the message.",
        .causes = "After an accepted RCPT, when the server advertised "
                  "CHUNKING; not mixed with DATA in one transaction.",
        .action = "250 after each chunk; the reply to the LAST chunk is "
                  "the verdict on the message.",
        .servers = "Postfix offers CHUNKING; aiosmtpd and smtp-sink do "
                   "not.",
        .rfc = "RFC 3030 2"},
    {.key = "RSET",
        .title = "Abandon the current transaction",
        .meaning = "Forgets the sender, the recipients and any content of "
                   "the transaction in progress; the connection and the "
                   "EHLO stay.",
        .causes = "Any time after the greeting.",
        .action = "250.",
        .servers = "Postfix 250 2.0.0 Ok; aiosmtpd and smtp-sink 250.",
        .rfc = "RFC 5321 4.1.1.5"},
    {.key = "VRFY",
        .title = "Ask whether an address exists",
        .meaning = "VRFY name asks the server to confirm a user or "
                   "mailbox.  It was meant for humans; spammers used it to "
                   "harvest addresses, so most servers hide the answer.",
        .causes = "Any time after the greeting; outside transactions is "
                  "the usual place.",
        .action = "250: verified (only allowed after a real check).  252: "
                  "cannot verify, would try delivery.  550: no such user.  "
                  "553: ambiguous.  502: VRFY disabled.",
        .servers = "Postfix: 252 2.0.0 for a known address, 550 5.1.1 for "
                   "an unknown one, 502 5.5.1 when disable_vrfy_command is "
                   "set.  aiosmtpd: 252 for any address.  smtp-sink: 250 "
                   "for anything.  Servers disagree, so only RCPT TO is "
                   "a real test.",
        .rfc = "RFC 5321 4.1.1.6, 3.5, 7.3"},
    {.key = "EXPN",
        .title = "Ask for the members of a mailing list",
        .meaning = "EXPN list asks the server to show who is on a list or "
                   "alias.  It leaks addresses, so almost every server "
                   "disables it.",
        .causes = "Any time after the greeting.",
        .action = "250 with one member per line, 252 (will not say), 550 "
                  "(not a list), 500/502 (not supported or disabled).",
        .servers = "Postfix does not implement EXPN: 500 5.5.2.  aiosmtpd "
                   "502.  smtp-sink 500 5.5.1.  Sendmail supports it "
                   "unless its privacy options forbid it.",
        .rfc = "RFC 5321 4.1.1.7, 3.5, 7.3"},
    {.key = "HELP",
        .title = "Ask the server for help text",
        .meaning = "HELP or HELP command asks for human-readable help.",
        .causes = "Any time after the greeting.",
        .action = "214 (or 211) with the text.",
        .servers = "Postfix and smtp-sink do not implement it (500); "
                   "aiosmtpd answers 250 Supported commands: ...; sendmail "
                   "answers 214.",
        .rfc = "RFC 5321 4.1.1.8"},
    {.key = "NOOP",
        .title = "Do nothing (keep-alive, latency check)",
        .meaning = "Has no effect except a 250 reply: a way to check that "
                   "the connection and server are alive, or to measure "
                   "round-trip time.",
        .causes = "Any time after the greeting.",
        .action = "250.",
        .servers = "Postfix 250 2.0.0 Ok; all three test servers answer "
                   "250.",
        .rfc = "RFC 5321 4.1.1.9"},
    {.key = "QUIT",
        .title = "End the session",
        .meaning = "Asks the server to reply and close the connection.  A "
                   "transaction left open is abandoned.",
        .causes = "Any time after the greeting.",
        .action = "221, then the server closes the connection.",
        .servers = "Postfix 221 2.0.0 Bye.",
        .rfc = "RFC 5321 4.1.1.10"},
    {.key = "VERB",
        .title = "Sendmail: verbose delivery report",
        .meaning = "A historical sendmail command, in no RFC: it asked "
                   "sendmail to deliver while the client waited and to "
                   "report every delivery step in the session.  It reveals "
                   "internal details, so modern servers do not offer it.",
        .causes = "After the greeting, on sendmail.",
        .action = "Sendmail answered 250 2.0.0 Verbose mode; others reply "
                  "500 or 502.",
        .servers = "Postfix 500 5.5.2, aiosmtpd 500, smtp-sink 500 5.5.1.",
        .rfc = "Sendmail extension (no RFC)"},
    {.key = "ETRN",
        .title = "Ask the server to flush its queue for a domain",
        .meaning = "ETRN domain (or @domain) asks the server to start "
                   "delivering mail it holds for that domain; used by "
                   "sites that are not always connected.",
        .causes = "After EHLO, outside a transaction, when ETRN was "
                  "advertised.",
        .action = "250/251/252/253: the queue run started (or nothing was "
                  "waiting).  458: cannot queue now.  459: domain not "
                  "allowed.",
        .servers = "Postfix offers ETRN and serves it only for domains in "
                   "fast_flush_domains.",
        .rfc = "RFC 1985 5"},
};

/*
 * ---- one-line meanings -------------------------------------------------
 * (verb, code, enhanced) with a well-known meaning.  verb is a command
 * verb or a stage name ("greeting", "end of data"); NULL matches any.
 * enhanced NULL matches any.  The first match in table order wins, so
 * rows with an enhanced code come before the row without one.
 */

struct oneline {
	const char *verb;
	int code;
	const char *enhanced;
	const char *text;
};

static const struct oneline onelines[] = {
    {"greeting", 220, NULL, "server ready: say EHLO"},
    {"greeting", 421, NULL, "server refuses now: connection closing"},
    {"greeting", 521, NULL, "this host never accepts mail"},
    {"greeting", 554, NULL, "no SMTP service for you here"},
    {"EHLO", 250, NULL, "capabilities listed"},
    {"EHLO", 500, NULL, "no ESMTP here: try HELO"},
    {"EHLO", 502, NULL, "no ESMTP here: try HELO"},
    {"EHLO", 501, NULL, "the name after EHLO was refused"},
    {"HELO", 250, NULL, "hello accepted (no extensions with HELO)"},
    {"HELO", 501, NULL, "the name after HELO was refused"},
    {"STARTTLS", 220, NULL, "start the TLS handshake now"},
    {"STARTTLS", 454, NULL, "TLS not available right now"},
    {"STARTTLS", 501, NULL, "STARTTLS takes no argument"},
    {"STARTTLS", 503, NULL, "TLS already active (or out of order)"},
    {"AUTH", 334, NULL, "server wants the next SASL step"},
    {"AUTH", 235, NULL, "authenticated"},
    {"AUTH", 250, NULL, "AUTH accepted without a check (a sink?)"},
    {"AUTH", 535, NULL, "credentials rejected"},
    {"AUTH", 534, NULL, "mechanism too weak for this server"},
    {"AUTH", 538, NULL, "this mechanism needs TLS first"},
    {"AUTH", 530, NULL, "TLS required before AUTH"},
    {"AUTH", 454, NULL, "temporary authentication failure"},
    {"AUTH", 432, NULL, "password transition needed"},
    {"AUTH", 500, "5.5.6", "authentication line too long"},
    {"AUTH", 501, NULL, "bad SASL data, or exchange cancelled"},
    {"AUTH", 503, NULL, "already authenticated (or out of order)"},
    {"AUTH", 504, NULL, "mechanism not supported"},
    {"MAIL", 250, NULL, "sender accepted: transaction started"},
    {"MAIL", 552, NULL, "message too large for the server (SIZE)"},
    {"MAIL", 452, NULL, "server short of space: try later"},
    {"MAIL", 555, NULL, "unknown MAIL parameter (not advertised?)"},
    {"MAIL", 503, NULL, "MAIL out of order (EHLO first? twice?)"},
    {"MAIL", 501, NULL, "bad sender address syntax"},
    {"MAIL", 530, NULL, "log in (or STARTTLS) before MAIL"},
    {"MAIL", 550, NULL, "sender refused"},
    {"MAIL", 553, NULL, "sender address not allowed"},
    {"RCPT", 250, NULL, "recipient accepted"},
    {"RCPT", 251, NULL, "recipient not local: will be forwarded"},
    {"RCPT", 450, "4.7.1", "deferred by policy (greylisting?): retry"},
    {"RCPT", 450, NULL, "recipient deferred: try again later"},
    {"RCPT", 451, NULL, "server-side problem: try again later"},
    {"RCPT", 452, "4.5.3", "too many recipients: send the rest later"},
    {"RCPT", 452, NULL, "too many recipients or no space: later"},
    {"RCPT", 550, "5.1.1", "no such mailbox at the receiving server"},
    {"RCPT", 550, "5.7.1", "refused by policy (relay or spam rules)"},
    {"RCPT", 554, "5.7.1", "relay access denied: not this server's domain"},
    {"RCPT", 550, NULL, "recipient refused"},
    {"RCPT", 551, NULL, "user not local: try the address given"},
    {"RCPT", 552, NULL, "mailbox full or over its limit"},
    {"RCPT", 553, NULL, "recipient address not allowed"},
    {"RCPT", 554, NULL, "recipient refused by policy"},
    {"RCPT", 503, NULL, "RCPT out of order: send MAIL FROM first"},
    {"RCPT", 501, NULL, "bad recipient address syntax"},
    {"RCPT", 555, NULL, "unknown RCPT parameter (not advertised?)"},
    {"DATA", 354, NULL, "go ahead: send the message, end with a lone dot"},
    {"DATA", 503, NULL, "no valid recipient yet: DATA refused"},
    {"DATA", 554, NULL, "no valid recipients: DATA refused"},
    {"end of data", 250, NULL, "message accepted for delivery"},
    {"end of data", 451, NULL, "message not taken now: try again later"},
    {"end of data", 452, NULL, "no space for the message: try later"},
    {"end of data", 552, NULL, "message too large: rejected"},
    {"end of data", 550, NULL, "message rejected"},
    {"end of data", 554, NULL, "message rejected (content or policy)"},
    {"BDAT", 250, NULL, "chunk accepted (after LAST: the message)"},
    {"BDAT", 552, NULL, "message too large: rejected"},
    {"BDAT", 554, NULL, "message rejected"},
    {"RSET", 250, NULL, "transaction reset; connection kept"},
    {"NOOP", 250, NULL, "alive: nothing done"},
    {"QUIT", 221, NULL, "goodbye: the server closes the connection"},
    {"VRFY", 250, NULL, "address exists (or the server says yes to all)"},
    {"VRFY", 251, NULL, "not local; would be forwarded"},
    {"VRFY", 252, NULL, "cannot verify, but would try delivery"},
    {"VRFY", 550, NULL, "no such address"},
    {"VRFY", 553, NULL, "ambiguous address"},
    {"VRFY", 500, NULL, "VRFY not supported here"},
    {"VRFY", 502, NULL, "VRFY disabled on this server"},
    {"EXPN", 250, NULL, "list members shown"},
    {"EXPN", 252, NULL, "will not show the list members"},
    {"EXPN", 500, NULL, "EXPN not supported here"},
    {"EXPN", 502, NULL, "EXPN disabled on this server"},
    {"EXPN", 550, NULL, "not a list (or EXPN refused)"},
    {"HELP", 211, NULL, "system status"},
    {"HELP", 214, NULL, "help text"},
    {"HELP", 250, NULL, "help text (sent with 250)"},
    {"HELP", 500, NULL, "no HELP on this server"},
    {"HELP", 502, NULL, "no HELP on this server"},
    {"VERB", 250, NULL, "verbose mode on (old sendmail)"},
    {"VERB", 500, NULL, "VERB unknown here (sendmail only)"},
    {"VERB", 502, NULL, "VERB not implemented (sendmail only)"},
    {"ETRN", 250, NULL, "queue run started"},
    {"ETRN", 251, NULL, "no messages waiting for that domain"},
    {"ETRN", 252, NULL, "queue run for the domain started"},
    {"ETRN", 253, NULL, "queue run started; messages waiting"},
    {"ETRN", 458, NULL, "cannot start the queue run now"},
    {"ETRN", 459, NULL, "domain not allowed for ETRN"},
    {NULL, 421, "4.7.0", "too many errors or policy: closing"},
    {NULL, 421, NULL, "service unavailable: connection closing"},
    {NULL, 500, NULL, "command not recognised"},
    {NULL, 502, NULL, "command not implemented"},
    {NULL, 503, NULL, "command out of order"},
    {NULL, 530, NULL, "log in (or STARTTLS) first"},
};

/* ---- tables and lookups ------------------------------------------ */

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

struct table {
	const struct smtp_explain *e;
	size_t n;
	const char *kind;
};

/* The order smtp_explain_at() walks: codes, enhanced codes, verbs, classes. */
static const struct table tables[] = {
    {reply_codes, NITEMS(reply_codes), "reply"},
    {enhanced_codes, NITEMS(enhanced_codes), "enhanced"},
    {verbs, NITEMS(verbs), "verb"},
    {reply_classes, NITEMS(reply_classes), "reply class"},
    {enhanced_classes, NITEMS(enhanced_classes), "enhanced class"},
};

static const struct smtp_explain *
table_find(const struct smtp_explain *e, size_t n, const char *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(e[i].key, key) == 0)
			return &e[i];
	return NULL;
}

static int
all_digits(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/*
 * Splits an enhanced code "c.s.d" (n bytes at s) into its class
 * character and the "s.d" part.  The class may be a digit or X; the
 * subject and detail have one to three digits (RFC 3463 2).
 */
static int
enhanced_split(const char *s, size_t n, char *cls, char *sd, size_t sdsize)
{
	const char *dot1, *dot2, *end = s + n;

	if (n < 5 || s[1] != '.')
		return -1;
	if (!isdigit((unsigned char)s[0]) && s[0] != 'X' && s[0] != 'x')
		return -1;
	dot1 = s + 1;
	dot2 = memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1));
	if (dot2 == NULL || dot2 - dot1 - 1 > 3 || end - dot2 - 1 > 3 ||
	    !all_digits(dot1 + 1, (size_t)(dot2 - dot1 - 1)) ||
	    !all_digits(dot2 + 1, (size_t)(end - dot2 - 1)))
		return -1;
	if ((size_t)(end - dot1 - 1) >= sdsize)
		return -1;
	*cls = s[0] == 'x' ? 'X' : s[0];
	memcpy(sd, dot1 + 1, (size_t)(end - dot1 - 1));
	sd[end - dot1 - 1] = '\0';
	return 0;
}

const struct smtp_explain *
smtp_explain_code(int code)
{
	char key[8];

	if (code < 100 || code > 599)
		return NULL;
	(void)snprintf(key, sizeof key, "%d", code);
	return table_find(reply_codes, NITEMS(reply_codes), key);
}

const struct smtp_explain *
smtp_explain_enhanced(const char *code)
{
	char cls, sd[8], key[16];

	if (code == NULL ||
	    enhanced_split(code, strlen(code), &cls, sd, sizeof sd) == -1)
		return NULL;
	if (cls != 'X' && cls != '2' && cls != '4' && cls != '5')
		return NULL;
	(void)snprintf(key, sizeof key, "X.%s", sd);
	return table_find(enhanced_codes, NITEMS(enhanced_codes), key);
}

const struct smtp_explain *
smtp_explain_verb(const char *verb)
{
	if (verb == NULL)
		return NULL;
	return table_find(verbs, NITEMS(verbs), verb);
}

const struct smtp_explain *
smtp_explain_class(int cls)
{
	char key[8];

	if (cls != 2 && cls != 4 && cls != 5)
		return NULL;
	(void)snprintf(key, sizeof key, "%d.X.X", cls);
	return table_find(enhanced_classes, NITEMS(enhanced_classes), key);
}

const struct smtp_explain *
smtp_explain_reply_class(int digit)
{
	char key[8];

	if (digit < 2 || digit > 5)
		return NULL;
	(void)snprintf(key, sizeof key, "%dxx", digit);
	return table_find(reply_classes, NITEMS(reply_classes), key);
}

size_t
smtp_explain_count(void)
{
	size_t i, n = 0;

	for (i = 0; i < NITEMS(tables); i++)
		n += tables[i].n;
	return n;
}

const struct smtp_explain *
smtp_explain_at(size_t idx)
{
	size_t i;

	for (i = 0; i < NITEMS(tables); i++) {
		if (idx < tables[i].n)
			return &tables[i].e[idx];
		idx -= tables[i].n;
	}
	return NULL;
}

const char *
smtp_explain_kind(const struct smtp_explain *e)
{
	size_t i;

	for (i = 0; i < NITEMS(tables); i++)
		if (e >= tables[i].e && e < tables[i].e + tables[i].n)
			return tables[i].kind;
	return "?";
}

/* ---- queries ----------------------------------------------------- */

/* The next word of *p (delimited by blanks), advancing *p past it. */
static size_t
next_word(const char **p, const char **word)
{
	const char *s = *p, *w;

	while (*s == ' ' || *s == '\t')
		s++;
	w = s;
	while (*s != '\0' && *s != ' ' && *s != '\t')
		s++;
	*word = w;
	*p = s;
	return (size_t)(s - w);
}

/* Fills hit with an enhanced code (n bytes at w); 0 when it is not one. */
static int
lookup_enhanced(const char *w, size_t n, struct smtp_explain_hit *hit)
{
	char cls, sd[8], key[16];

	if (enhanced_split(w, n, &cls, sd, sizeof sd) == -1)
		return 0;
	memset(hit, 0, sizeof *hit);
	(void)snprintf(hit->as, sizeof hit->as, "%c.%s", cls, sd);
	(void)snprintf(key, sizeof key, "X.%s", sd);
	hit->entry = table_find(enhanced_codes, NITEMS(enhanced_codes), key);
	if (hit->entry != NULL &&
	    (cls == 'X' || smtp_explain_class(cls - '0') != NULL))
		return 1;
	if (cls == 'X')
		return 0;
	/* Not in the registry (5.7.515, say): explain its class. */
	hit->entry = smtp_explain_class(cls - '0');
	hit->fallback = 1;
	return hit->entry != NULL;
}

size_t
smtp_explain_lookup(const char *query, struct smtp_explain_hit out[2])
{
	const char *p = query, *w;
	size_t n;
	int code;

	if (query == NULL)
		return 0;
	memset(out, 0, 2 * sizeof *out);
	n = next_word(&p, &w);
	if (n == 0 || n > 40)
		return 0;
	/* "550", "550 5.1.1", a pasted reply line "550-5.1.1 text". */
	if (n >= 3 && all_digits(w, 3) && (n == 3 || (w[3] == '-' && n > 4))) {
		code = (w[0] - '0') * 100 + (w[1] - '0') * 10 + (w[2] - '0');
		(void)snprintf(out[0].as, sizeof out[0].as, "%d", code);
		out[0].entry = smtp_explain_code(code);
		if (out[0].entry == NULL) {
			out[0].entry = smtp_explain_reply_class(code / 100);
			out[0].fallback = 1;
		}
		if (out[0].entry == NULL)
			return 0;
		if (n > 4)
			return 1 +
			    (size_t)lookup_enhanced(w + 4, n - 4, &out[1]);
		n = next_word(&p, &w);
		return 1 + (size_t)lookup_enhanced(w, n, &out[1]);
	}
	/* "5xx", "5": a reply class. */
	if ((n == 3 && w[0] >= '2' && w[0] <= '5' &&
	        (w[1] == 'x' || w[1] == 'X') && (w[2] == 'x' || w[2] == 'X')) ||
	    (n == 1 && w[0] >= '2' && w[0] <= '5')) {
		out[0].entry = smtp_explain_reply_class(w[0] - '0');
		(void)snprintf(out[0].as, sizeof out[0].as, "%cxx", w[0]);
		return 1;
	}
	/* "5.x.x": an enhanced class. */
	if (n == 5 && w[0] >= '2' && w[0] <= '5' && w[1] == '.' &&
	    strncasecmp(w + 2, "x.x", 3) == 0) {
		out[0].entry = smtp_explain_class(w[0] - '0');
		(void)snprintf(out[0].as, sizeof out[0].as, "%c.X.X", w[0]);
		return out[0].entry != NULL;
	}
	if (lookup_enhanced(w, n, &out[0]))
		return 1;
	memset(out, 0, 2 * sizeof *out);
	/* A verb, or a command line whose first word is one. */
	if (n < sizeof out[0].as) {
		memcpy(out[0].as, w, n);
		out[0].as[n] = '\0';
		out[0].entry = smtp_explain_verb(out[0].as);
		if (out[0].entry != NULL) {
			const struct smtp_explain *e = out[0].entry;

			(void)snprintf(
			    out[0].as, sizeof out[0].as, "%s", e->key);
			return 1;
		}
	}
	memset(out, 0, 2 * sizeof *out);
	return 0;
}

/* ---- text -------------------------------------------------------- */

/*
 * Appends text to b wrapped to width columns.  The current line already
 * holds col columns; continuation lines start with indent spaces.  A
 * newline in text starts a new line.  Words longer than a line are cut,
 * so no line ever exceeds width.  Ends without a newline.
 */
static void
wrap(struct buf *b, const char *text, size_t col, size_t indent, size_t width)
{
	const char *p = text;
	int fresh = 1;

	while (*p != '\0') {
		size_t n;

		if (*p == ' ') {
			p++;
			continue;
		}
		if (*p == '\n') {
			(void)buf_add_printf(b, "\n%*s", (int)indent, "");
			col = indent;
			fresh = 1;
			p++;
			continue;
		}
		n = strcspn(p, " \n");
		if (!fresh && col + 1 + n > width) {
			(void)buf_add_printf(b, "\n%*s", (int)indent, "");
			col = indent;
			fresh = 1;
		}
		if (!fresh) {
			(void)buf_add(b, " ", 1);
			col++;
		}
		while (col + n > width) {
			size_t room = width > col ? width - col : 0;

			if (room == 0) {
				(void)buf_add_printf(
				    b, "\n%*s", (int)indent, "");
				col = indent;
				continue;
			}
			(void)buf_add(b, p, room);
			p += room;
			n -= room;
			(void)buf_add_printf(b, "\n%*s", (int)indent, "");
			col = indent;
		}
		(void)buf_add(b, p, n);
		col += n;
		p += n;
		fresh = 0;
	}
}

static void
section(struct buf *b, const char *heading, const char *text, size_t width)
{
	if (text == NULL || *text == '\0')
		return;
	wrap(b, heading, 0, 2, width);
	(void)buf_add(b, "\n  ", 3);
	wrap(b, text, 2, 2, width);
	(void)buf_add(b, "\n", 1);
}

static void
format_hit(struct buf *b, const struct smtp_explain_hit *hit, size_t width)
{
	const struct smtp_explain *e = hit->entry;
	const char *kind = smtp_explain_kind(e);
	int verb = strcmp(kind, "verb") == 0;
	const struct smtp_command *cmd;
	char *head;

	if (hit->fallback) {
		head = xasprintf("%s is not a registered %s; what its class "
		                 "means:",
		    hit->as,
		    strchr(hit->as, '.') ? "enhanced status code"
		                         : "reply code");
		wrap(b, head, 0, 2, width);
		(void)buf_add(b, "\n", 1);
		free(head);
	}
	head = xasprintf("%s: %s",
	    hit->fallback || hit->as[0] == '\0' ? e->key : hit->as, e->title);
	wrap(b, head, 0, 2, width);
	(void)buf_add(b, "\n", 1);
	free(head);
	if (verb && (cmd = smtp_command_find(e->key, strlen(e->key))) != NULL &&
	    cmd->syntax != NULL) {
		head = xasprintf("Syntax: %s", cmd->syntax);
		wrap(b, head, 0, 2, width);
		(void)buf_add(b, "\n", 1);
		free(head);
	}
	if (!hit->fallback && hit->as[0] != '\0' &&
	    strcasecmp(hit->as, e->key) != 0)
		head = xasprintf(
		    "Reference: %s (registry entry %s)", e->rfc, e->key);
	else
		head = xasprintf("Reference: %s", e->rfc);
	wrap(b, head, 0, 2, width);
	(void)buf_add(b, "\n", 1);
	free(head);
	section(
	    b, verb ? "What it does:" : "What it means:", e->meaning, width);
	section(
	    b, verb ? "When it is legal:" : "Usual causes:", e->causes, width);
	section(
	    b, verb ? "Replies to expect:" : "What to do:", e->action, width);
	section(b, "How real servers differ:", e->servers, width);
}

char *
smtp_explain_format(const struct smtp_explain_hit *hits, size_t n, size_t width)
{
	struct buf b;
	char *s;
	size_t i;

	if (n == 0)
		return NULL;
	if (width < 20)
		width = 20;
	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			(void)buf_add(&b, "\n", 1);
		format_hit(&b, &hits[i], width);
	}
	s = xstrndup(buf_peek(&b), buf_used(&b));
	buf_reset(&b);
	return s;
}

char *
smtp_explain_text_width(const char *query, size_t width)
{
	struct smtp_explain_hit hits[2];
	size_t n = smtp_explain_lookup(query, hits);

	return n == 0 ? NULL : smtp_explain_format(hits, n, width);
}

char *
smtp_explain_text(const char *query)
{
	return smtp_explain_text_width(query, SMTP_EXPLAIN_WIDTH);
}

/* ---- one line ---------------------------------------------------- */

/* 1 when verb (a command line, a verb or a stage name) names want. */
static int
verb_is(const char *verb, const char *want)
{
	size_t n = strlen(want);

	return strncasecmp(verb, want, n) == 0 &&
	    (verb[n] == '\0' || verb[n] == ' ' || verb[n] == '\t');
}

const char *
smtp_explain_oneline(const char *verb, int code, const char *enhanced)
{
	const struct smtp_explain *e;
	char cls, sd[8];
	size_t i;

	if (enhanced != NULL && *enhanced == '\0')
		enhanced = NULL;
	for (i = 0; i < NITEMS(onelines); i++) {
		const struct oneline *o = &onelines[i];

		if (o->code != code)
			continue;
		if (o->verb != NULL &&
		    (verb == NULL || !verb_is(verb, o->verb)))
			continue;
		if (o->enhanced != NULL &&
		    (enhanced == NULL || strcmp(o->enhanced, enhanced) != 0))
			continue;
		return o->text;
	}
	/* X.s.0 titles ("Other ... status") say less than the code's. */
	if (enhanced != NULL &&
	    enhanced_split(enhanced, strlen(enhanced), &cls, sd, sizeof sd) ==
	        0 &&
	    strcmp(strchr(sd, '.') + 1, "0") != 0 &&
	    (e = smtp_explain_enhanced(enhanced)) != NULL)
		return e->title;
	if ((e = smtp_explain_code(code)) != NULL)
		return e->title;
	if ((e = smtp_explain_reply_class(code / 100)) != NULL)
		return e->title;
	return code == 0 ? "no reply yet" : "not a valid SMTP reply code";
}
