/*
 * Authenticating the server beyond the CA system: public key pinning
 * (--pin sha256//BASE64, curl's --pinnedpubkey form: the SHA-256 of the
 * server certificate's SubjectPublicKeyInfo, several joined with ";").
 * A pin is checked after the handshake and holds even with --insecure:
 * it is the user's own statement of which key the server has.
 *
 *   RFC 7469 2.4 (SPKI fingerprints)
 */
#include "protocol/transport_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/escape.h"
#include "core/xmalloc.h"

char *
tr_pin_check(struct smtp_transport *t, const char *pins)
{
	X509 *leaf = tr_peer_leaf(t->ssl);
	const char *p, *end;
	char *spki, *shown, *s;
	size_t n, k;

	if (leaf == NULL)
		return xstrdup("public key pin mismatch: the server sent no "
		               "certificate");
	spki = tr_spki_sha256(leaf);
	k = strlen(spki);
	for (p = pins; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, ";");
		n = (size_t)(end - p);
		if (n > 8 && strncmp(p, "sha256//", 8) == 0 && n - 8 == k &&
		    memcmp(p + 8, spki, k) == 0) {
			free(spki);
			return NULL;
		}
	}
	shown = escape_dup(pins, strlen(pins));
	s = xasprintf("public key pin mismatch: the server's key is "
	              "sha256//%s, --pin wants %s; nothing was sent (the "
	              "server changed its key, or someone is in between)",
	    spki, shown);
	free(shown);
	free(spki);
	return s;
}
