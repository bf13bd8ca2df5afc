/*
 * What a TLS handshake showed, for people: the certificate chain (subject,
 * issuer, validity, SANs), protocol, cipher, key exchange group, and the
 * stapled OCSP response (RFC 6066 8, RFC 6961's successor in TLS 1.3,
 * RFC 8446 4.4.2.1), only described (tr_ocsp_describe), never enforced: a
 * missing, stale or unverifiable staple is common and says nothing about
 * an attack.  Certificate fields are untrusted: they are reduced to
 * printable text and bounded (TR_FIELD_MAX, TR_SAN_MAX, TR_CHAIN_MAX)
 * before anyone else sees them.
 *
 *   RFC 5280 (certificates)   RFC 6960 (OCSP)   RFC 8446 (TLS 1.3)
 */
#include "protocol/transport_int.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/escape.h"
#include "core/xmalloc.h"

/* Copies p[0..n) keeping printable ASCII, '?' for anything else. */
char *
tr_printable_dup(const char *p, size_t n)
{
	char *s;
	size_t i, len;

	len = n > TR_FIELD_MAX ? TR_FIELD_MAX : n;
	s = xmalloc(len + 4);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		s[i] = (char)((c >= 0x20 && c < 0x7f) ? c : '?');
	}
	if (len < n) {
		memcpy(s + len, "...", 3);
		len += 3;
	}
	s[len] = '\0';
	return s;
}

/*
 * Collects (and clears) the OpenSSL error queue: *reasons gets the short
 * reasons ("wrong version number"), *details the full error strings.
 * Returns 1 when a reason says the peer did not talk TLS at all.
 */
int
tr_ssl_errors(char **reasons, char **details)
{
	struct buf r, d;
	char line[256];
	unsigned long e;
	const char *reason;
	int n = 0, plain = 0, why;

	buf_init(&r, 2048);
	buf_init(&d, 2048);
	while ((e = ERR_get_error()) != 0) {
		if (n++ >= TR_ERRQ_MAX)
			continue;
		ERR_error_string_n(e, line, sizeof line);
		reason = ERR_SYSTEM_ERROR(e) ? strerror(ERR_GET_REASON(e))
		                             : ERR_reason_error_string(e);
		(void)buf_add_printf(&r, "%s%s", n > 1 ? "; " : "",
		    reason != NULL ? reason : line);
		(void)buf_add_printf(&d, "%s%s", n > 1 ? "; " : "", line);
		why = ERR_GET_REASON(e);
		if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
		    (why == SSL_R_WRONG_VERSION_NUMBER ||
		        why == SSL_R_UNKNOWN_PROTOCOL ||
		        why == SSL_R_PACKET_LENGTH_TOO_LONG ||
		        why == SSL_R_RECORD_LENGTH_MISMATCH))
			plain = 1;
	}
	ERR_clear_error();
	*reasons = tr_printable_dup(buf_peek(&r), buf_used(&r));
	*details = tr_printable_dup(buf_peek(&d), buf_used(&d));
	buf_reset(&r);
	buf_reset(&d);
	return plain;
}

static char *
tr_printable_str(const char *s)
{
	return tr_printable_dup(s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* Appends a GENERAL_NAME's text ("DNS:x") to b; 0, or -1 when b is full. */
static int
tr_san_add(struct buf *b, const GENERAL_NAME *gn)
{
	char ip[INET6_ADDRSTRLEN];
	const ASN1_STRING *s;
	const char *prefix, *sep;
	char *text;
	int len, r;

	sep = buf_used(b) > 0 ? ", " : "";
	switch (gn->type) {
	case GEN_DNS:
		prefix = "DNS:";
		s = gn->d.dNSName;
		break;
	case GEN_EMAIL:
		prefix = "email:";
		s = gn->d.rfc822Name;
		break;
	case GEN_URI:
		prefix = "URI:";
		s = gn->d.uniformResourceIdentifier;
		break;
	case GEN_IPADD:
		s = gn->d.iPAddress;
		len = ASN1_STRING_length(s);
		if ((len != 4 && len != 16) ||
		    inet_ntop(len == 4 ? AF_INET : AF_INET6,
		        ASN1_STRING_get0_data(s), ip, sizeof ip) == NULL)
			return buf_add_printf(b, "%sIP:(invalid)", sep);
		return buf_add_printf(b, "%sIP:%s", sep, ip);
	default:
		return buf_add_printf(b, "%s(other name)", sep);
	}
	len = ASN1_STRING_length(s);
	text = escape_dup(
	    (const char *)ASN1_STRING_get0_data(s), len > 0 ? (size_t)len : 0);
	r = buf_add_printf(b, "%s%s%s", sep, prefix, text);
	free(text);
	return r;
}

/* "DNS:a.example, IP:127.0.0.1", or "" without a SAN extension. */
char *
tr_san_string(X509 *x)
{
	GENERAL_NAMES *names;
	struct buf b;
	char *s;
	int i, n;

	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (names == NULL) {
		ERR_clear_error();
		return xstrdup("");
	}
	buf_init(&b, TR_SAN_MAX);
	n = sk_GENERAL_NAME_num(names);
	for (i = 0; i < n; i++)
		if (tr_san_add(&b, sk_GENERAL_NAME_value(names, i)) == -1)
			break;
	GENERAL_NAMES_free(names);
	s = xasprintf(
	    "%.*s%s", (int)buf_used(&b), buf_peek(&b), i < n ? ", ..." : "");
	buf_reset(&b);
	return s;
}

/* A certificate name in one-line RFC 2253 form. */
char *
tr_name_string(const X509_NAME *name)
{
	BIO *mem;
	char *data, *s;
	long n;

	if (name == NULL || (mem = BIO_new(BIO_s_mem())) == NULL)
		return xstrdup("");
	if (X509_NAME_print_ex(mem, name, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(mem);
		ERR_clear_error();
		return xstrdup("");
	}
	n = BIO_get_mem_data(mem, &data);
	s = tr_printable_dup(data, n > 0 ? (size_t)n : 0);
	BIO_free(mem);
	return s;
}

char *
tr_time_string(const ASN1_TIME *at)
{
	struct tm tm;
	char s[64];

	memset(&tm, 0, sizeof tm);
	if (at == NULL || ASN1_TIME_to_tm(at, &tm) != 1 ||
	    strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return xstrdup("(invalid time)");
	return xstrdup(s);
}

/* "AB:CD:..." of a SHA-256 digest. */
static char *
tr_hex_colons(const unsigned char *md, unsigned int n)
{
	char *s = xmalloc((size_t)n * 3 + 1);
	unsigned int i;

	for (i = 0; i < n; i++)
		(void)snprintf(
		    s + i * 3, 4, "%02X%s", md[i], i + 1 < n ? ":" : "");
	s[n > 0 ? n * 3 - 1 : 0] = '\0';
	return s;
}

char *
tr_spki_sha256(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int n = 0;
	int len;

	len = i2d_PUBKEY(X509_get0_pubkey(x), &der);
	if (len <= 0 ||
	    EVP_Digest(der, (size_t)len, md, &n, EVP_sha256(), NULL) != 1) {
		OPENSSL_free(der);
		ERR_clear_error();
		return xstrdup("");
	}
	OPENSSL_free(der);
	(void)EVP_EncodeBlock(b64, md, (int)n);
	return xstrdup((const char *)b64);
}

static void
tr_cert_fill(struct smtp_tls_cert *c, X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	const ASN1_TIME *na;
	EVP_PKEY *pk;
	const char *kt;
	int day = 0, sec = 0, nid;

	c->subject = tr_name_string(X509_get_subject_name(x));
	c->issuer = tr_name_string(X509_get_issuer_name(x));
	c->san = tr_san_string(x);
	c->not_before = tr_time_string(X509_get0_notBefore(x));
	na = X509_get0_notAfter(x);
	c->not_after = tr_time_string(na);
	if (na != NULL && ASN1_TIME_diff(&day, &sec, NULL, na) == 1)
		c->days_left = (day == 0 && sec < 0) ? -1 : day;
	else
		c->days_left = 0;
	pk = X509_get0_pubkey(x);
	kt = NULL;
	c->key_bits = 0;
	if (pk != NULL) {
		kt = EVP_PKEY_get0_type_name(pk);
		if (kt == NULL)
			kt = OBJ_nid2sn(EVP_PKEY_get_base_id(pk));
		c->key_bits = EVP_PKEY_get_bits(pk);
	}
	c->key_type = tr_printable_str(kt != NULL ? kt : "unknown");
	nid = X509_get_signature_nid(x);
	c->sig_alg =
	    tr_printable_str(nid != NID_undef ? OBJ_nid2ln(nid) : "unknown");
	c->sha256 = X509_digest(x, EVP_sha256(), md, &mdlen) == 1
	    ? tr_hex_colons(md, mdlen)
	    : xstrdup("");
	c->spki_sha256 = tr_spki_sha256(x);
	ERR_clear_error();
}

void
tr_info_free(struct smtp_tls_info *info)
{
	size_t i;

	if (info == NULL)
		return;
	for (i = 0; i < info->nchain; i++) {
		struct smtp_tls_cert *c = &info->chain[i];

		free(c->subject);
		free(c->issuer);
		free(c->san);
		free(c->not_before);
		free(c->not_after);
		free(c->key_type);
		free(c->sig_alg);
		free(c->sha256);
		free(c->spki_sha256);
	}
	free(info->chain);
	free(info->version);
	free(info->cipher);
	free(info->group);
	free(info->sni);
	free(info->alpn);
	free(info->sig_alg);
	free(info->peer_key);
	for (i = 0; i < info->ndane; i++)
		free(info->dane[i]);
	free(info->dane);
	free(info->dane_name);
	free(info->verify_error);
	free(info->ocsp);
	free(info);
}

static char *
tr_group_name(SSL *ssl)
{
	const char *name = NULL;
	int id;

	id = (int)SSL_get_negotiated_group(ssl);
	if (id <= 0)
		return xstrdup("");
#if OPENSSL_VERSION_NUMBER >= 0x30200000L
	name = SSL_group_to_name(ssl, id);
#else
	/* Before 3.2 the value is a NID, with a flag bit for unknown ones. */
	if ((id & TLSEXT_nid_unknown) == 0)
		name = OBJ_nid2sn(id);
#endif
	return tr_printable_str(name);
}

/*
 * The server's handshake signature: "RSA-PSS+SHA256" style, from the
 * signature type and digest OpenSSL reports ("" when none, as with a
 * resumed session).
 */
static char *
tr_sigalg_name(SSL *ssl)
{
	int type = NID_undef, md = NID_undef;
	const char *tn, *mn;

	if (SSL_get_peer_signature_type_nid(ssl, &type) != 1)
		type = NID_undef;
	if (SSL_get_peer_signature_nid(ssl, &md) != 1)
		md = NID_undef;
	ERR_clear_error();
	if (type == NID_undef)
		return xstrdup("");
	tn = OBJ_nid2sn(type);
	mn = md != NID_undef ? OBJ_nid2sn(md) : NULL;
	if (type == EVP_PKEY_RSA_PSS)
		tn = "RSA-PSS";
	else if (type == EVP_PKEY_RSA)
		tn = "RSA-PKCS1";
	else if (type == EVP_PKEY_EC)
		tn = "ECDSA";
	if (mn == NULL || type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448)
		return tr_printable_str(tn);
	{
		char *both = xasprintf("%s+%s", tn, mn), *s;

		s = tr_printable_str(both);
		free(both);
		return s;
	}
}

/* The leaf's issuer: the next certificate sent, else the verified chain. */
static X509 *
tr_leaf_issuer(SSL *ssl, X509 *leaf)
{
	STACK_OF(X509) * sk;
	int i, pass;

	for (pass = 0; pass < 2; pass++) {
		sk = pass == 0 ? SSL_get_peer_cert_chain(ssl)
		               : SSL_get0_verified_chain(ssl);
		for (i = 0; sk != NULL && i < sk_X509_num(sk); i++) {
			X509 *x = sk_X509_value(sk, i);

			if (x != leaf &&
			    X509_check_issued(x, leaf) == X509_V_OK)
				return x;
		}
	}
	return NULL;
}

/*
 * The leaf's status in a stapled OCSP response: *status and a one-line
 * summary (see struct smtp_tls_info).  Responder signature checks use
 * the shared store, so --insecure sessions may report it unverified.
 */
char *
tr_ocsp_describe(SSL *ssl, enum smtp_ocsp_status *status)
{
	const unsigned char *p = NULL;
	ASN1_GENERALIZEDTIME *rev = NULL, *thisupd = NULL, *nextupd = NULL;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp;
	OCSP_CERTID *id;
	X509 *leaf, *issuer;
	char *what, *tu, *nu, *s;
	const char *sig, *stale;
	long len;
	int rs, cs, reason;

	*status = SMTP_OCSP_NONE;
	len = SSL_get_tlsext_status_ocsp_resp(ssl, &p);
	if (len <= 0 || p == NULL)
		return xstrdup("");
	*status = SMTP_OCSP_UNUSABLE;
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, len)) == NULL) {
		ERR_clear_error();
		return xstrdup("unparseable response");
	}
	rs = OCSP_response_status(resp);
	if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		s = xasprintf(
		    "response status %s", OCSP_response_status_str(rs));
		OCSP_RESPONSE_free(resp);
		return s;
	}
	bs = OCSP_response_get1_basic(resp);
	OCSP_RESPONSE_free(resp);
	leaf = tr_peer_leaf(ssl);
	issuer = leaf != NULL ? tr_leaf_issuer(ssl, leaf) : NULL;
	if (bs == NULL || leaf == NULL || issuer == NULL) {
		OCSP_BASICRESP_free(bs);
		ERR_clear_error();
		return xstrdup(bs == NULL ? "unparseable response"
		                          : "no issuer certificate to match "
		                            "the response with");
	}
	id = OCSP_cert_to_id(NULL, leaf, issuer);
	if (id == NULL ||
	    OCSP_resp_find_status(
	        bs, id, &cs, &reason, &rev, &thisupd, &nextupd) != 1) {
		OCSP_CERTID_free(id);
		OCSP_BASICRESP_free(bs);
		ERR_clear_error();
		return xstrdup("no status for this certificate");
	}
	OCSP_CERTID_free(id);
	sig = OCSP_basic_verify(bs, SSL_get_peer_cert_chain(ssl),
	          SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl)), 0) > 0
	    ? ""
	    : "; signature not verified";
	/* Five minutes of clock skew, as OpenSSL's own tools allow. */
	stale = OCSP_check_validity(thisupd, nextupd, 300, -1) == 1
	    ? ""
	    : "; out of date";
	tu = tr_time_string(thisupd);
	nu = nextupd != NULL ? tr_time_string(nextupd) : xstrdup("none");
	switch (cs) {
	case V_OCSP_CERTSTATUS_GOOD:
		*status = SMTP_OCSP_GOOD;
		what = xstrdup("good");
		break;
	case V_OCSP_CERTSTATUS_REVOKED: {
		char *at = tr_time_string(rev);

		*status = SMTP_OCSP_REVOKED;
		what =
		    xasprintf("revoked at %s%s%s", at, reason >= 0 ? ", " : "",
		        reason >= 0 ? OCSP_crl_reason_str(reason) : "");
		free(at);
		break;
	}
	default:
		*status = SMTP_OCSP_UNKNOWN;
		what = xstrdup("unknown");
		break;
	}
	s = xasprintf("%s (this update %s, next update %s)%s%s", what, tu, nu,
	    sig, stale);
	free(what);
	free(tu);
	free(nu);
	OCSP_BASICRESP_free(bs);
	ERR_clear_error();
	return s;
}

struct smtp_tls_info *
tr_info_build(struct smtp_transport *t, long vr)
{
	struct smtp_tls_info *info;
	STACK_OF(X509) * chain;
	const unsigned char *alpn;
	unsigned int alpnlen;
	X509 *leaf;
	size_t i, n;

	info = xcalloc(1, sizeof *info);
	info->version = tr_printable_str(SSL_get_version(t->ssl));
	info->cipher = tr_printable_str(SSL_get_cipher_name(t->ssl));
	info->group = tr_group_name(t->ssl);
	info->sni = xstrdup(t->sni != NULL ? t->sni : "");
	SSL_get0_alpn_selected(t->ssl, &alpn, &alpnlen);
	info->alpn =
	    tr_printable_dup((const char *)alpn, alpn != NULL ? alpnlen : 0);
	info->sig_alg = tr_sigalg_name(t->ssl);
	info->resumed = SSL_session_reused(t->ssl) == 1;
	info->cert_requested = t->cert_requested;
	info->verified = vr == X509_V_OK;
	info->verify_skipped = t->insecure;
	info->opportunistic = t->opportunistic && !t->insecure;
	info->verify_error = xstrdup(""); /* tr_info_complete fills it */

	chain = SSL_get_peer_cert_chain(t->ssl);
	if (chain != NULL && sk_X509_num(chain) > 0) {
		n = (size_t)sk_X509_num(chain);
		if (n > TR_CHAIN_MAX)
			n = TR_CHAIN_MAX;
		info->chain = xcalloc(n, sizeof *info->chain);
		for (i = 0; i < n; i++)
			tr_cert_fill(
			    &info->chain[i], sk_X509_value(chain, (int)i));
		info->nchain = n;
	} else if ((leaf = SSL_get1_peer_certificate(t->ssl)) != NULL) {
		info->chain = xcalloc(1, sizeof *info->chain);
		tr_cert_fill(&info->chain[0], leaf);
		info->nchain = 1;
		X509_free(leaf);
	}
	info->peer_key = info->nchain > 0
	    ? xasprintf(
	          "%s %d", info->chain[0].key_type, info->chain[0].key_bits)
	    : xstrdup("");
	info->ocsp = tr_ocsp_describe(t->ssl, &info->ocsp_status);
	info->dane_match = -1;
	ERR_clear_error();
	return info;
}

/* The leaf certificate the server sent, not owned, or NULL. */
X509 *
tr_peer_leaf(SSL *ssl)
{
	STACK_OF(X509) * chain;

	chain = SSL_get_peer_cert_chain(ssl);
	if (chain != NULL && sk_X509_num(chain) > 0)
		return sk_X509_value(chain, 0);
	return SSL_get0_peer_certificate(ssl);
}
