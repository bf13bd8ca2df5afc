#ifndef EHLO_PROTOCOL_VERSION_H
#define EHLO_PROTOCOL_VERSION_H

/* "OpenSSL 3.0.x ..." of the library in use. */
const char *smtp_openssl_version(void);

#endif
