/*
 * TLS channel bindings for SASL's -PLUS mechanisms (SCRAM-SHA-*-PLUS):
 * data both ends of this TLS connection can compute and nobody in the
 * middle shares, so a server that checks it knows no one relayed the
 * exchange through a second TLS connection.
 *
 *   RFC 9266  Channel Bindings for TLS 1.3 (tls-exporter: 32 bytes of
 *             keying material with the label "EXPORTER-Channel-Binding"
 *             and no context)
 *   RFC 5929  Channel Bindings for TLS (tls-unique: the first Finished
 *             message of the latest handshake; TLS 1.2 and earlier)
 *   RFC 5056  On the Use of Channel Bindings to Secure Channels
 *
 * TLS 1.3 gets tls-exporter (tls-unique is not defined there); TLS 1.2
 * gets tls-unique, which RFC 9266 leaves as 1.2's binding.  In a full
 * handshake the client's Finished comes first; in a resumed one the
 * server's does.
 */
#include "protocol/transport_cb.h"

#include "protocol/transport_int.h"

#include <string.h>

#include <openssl/ssl.h>

#define TR_CB_LABEL "EXPORTER-Channel-Binding"
#define TR_CB_EXPORTER_LEN 32

int
transport_cb_read(SSL *ssl, int is_server, const char **type,
    unsigned char *out, size_t cap, size_t *len)
{
	size_t n;
	int client_first;

	*type = NULL;
	*len = 0;
	if (ssl == NULL || !SSL_is_init_finished(ssl))
		return -1;
	if (SSL_version(ssl) >= TLS1_3_VERSION) {
		if (cap < TR_CB_EXPORTER_LEN ||
		    SSL_export_keying_material(ssl, out, TR_CB_EXPORTER_LEN,
		        TR_CB_LABEL, strlen(TR_CB_LABEL), NULL, 0, 0) != 1)
			return -1;
		*type = "tls-exporter";
		*len = TR_CB_EXPORTER_LEN;
		return 0;
	}
	/* The first Finished: the client's, unless the session resumed. */
	client_first = !SSL_session_reused(ssl);
	if (client_first != is_server)
		n = SSL_get_finished(ssl, out, cap);
	else
		n = SSL_get_peer_finished(ssl, out, cap);
	if (n == 0 || n > cap)
		return -1;
	*type = "tls-unique";
	*len = n;
	return 0;
}

int
smtp_transport_channel_binding(const struct smtp_transport *t,
    const char **type, unsigned char *out, size_t cap, size_t *len)
{
	*type = NULL;
	*len = 0;
	if (t == NULL)
		return -1;
	return transport_cb_read(t->ssl, 0, type, out, cap, len);
}
