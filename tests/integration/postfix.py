"""A private Postfix instance on loopback (needs root): its master.cf and
main.cf, a SASL database of the test users, virtual Maildirs, and the
master process run as our own child under a watchdog.

servers.py re-exports Postfix; tests import it from there.
"""

import glob
import os
import subprocess
import time

from serverbase import (PortInUse, Server, _port_taken, _start_watchdog,
                        _terminate_group, _user_ids, _wait_for, _write,
                        free_ports, make_cert, wait_ready)


_POSTFIX_MASTER_CF = """\
# Private test instance: no chroot, loopback only.
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:{port} inet n - n - - smtpd
127.0.0.1:{tls_port} inet n - n - - smtpd
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
  -o syslog_name=postfix/smtps
127.0.0.1:{submission_port} inet n - n - - smtpd
  -o smtpd_tls_security_level=encrypt
  -o smtpd_tls_auth_only=yes
  -o syslog_name=postfix/submission
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

_POSTFIX_MAIN_CF = """\
# Private Postfix instance for the ehlo integration tests.
compatibility_level = 3.6
config_directory = {work}/etc
queue_directory = {work}/spool
data_directory = {work}/data
maillog_file = {work}/maillog
maillog_file_prefixes = {work}, /dev/stdout
myhostname = {hostname}
mydomain = {domain}
myorigin = $myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
biff = no
smtputf8_enable = yes

# Never deliver anything off this machine, and never rewrite headers, so
# what a test sends is what lands in the Maildir.  Clients that
# authenticated may relay to {relay_domain}, whose mail is discarded (a
# recipient routed to error: is refused at RCPT time, even after AUTH).
default_transport = error:outbound mail is disabled in this test instance
relay_transport = error:outbound mail is disabled in this test instance
transport_maps = inline:{{ {relay_domain}=discard: }}
local_header_rewrite_clients =

# What the workbench tests look at.
message_size_limit = {size_limit}
disable_vrfy_command = no
smtpd_error_sleep_time = 0
smtpd_relay_restrictions = permit_sasl_authenticated reject_unauth_destination
smtpd_banner = $myhostname ESMTP test instance

# Virtual Maildir delivery.
virtual_mailbox_domains = {domain}
virtual_mailbox_base = {work}/mail
virtual_mailbox_maps = inline:{{ {mailboxes} }}
virtual_alias_maps = inline:{{ {{list@{domain}={list_members}}} }}
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1

# STARTTLS (offered, not required, on the plain port).
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes

# AUTH through Cyrus SASL with a private sasldb.
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
cyrus_sasl_config_path = {work}/etc/sasl
smtpd_sasl_local_domain = {domain}
smtpd_sasl_security_options = noanonymous
smtpd_tls_auth_only = no
"""

_SASL_SMTPD_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: {sasldb}
mech_list: PLAIN LOGIN CRAM-MD5
"""


class Postfix(Server):
    """A private Postfix instance (needs root).

    users: {"alice": "alice-secret-1", ...}: each gets a SASL secret and a
    virtual Maildir at USER@domain; list@domain expands to all users.
    Ports (all on 127.0.0.1): .port plain (STARTTLS offered, AUTH offered
    without TLS), .tls_port implicit TLS, .submission_port (STARTTLS
    required, AUTH only after TLS).  cert: a Cert, generated when None.
    Relaying is denied (554 5.7.1) except to relay_domain after AUTH;
    mail relayed there is discarded.
    """

    kind = "postfix"

    def __init__(self, users, domain="example.test",
                 hostname="mx.example.test", cert=None,
                 message_size_limit=1000000, relay_domain="relayed.example",
                 extra_main_cf="", proxy=False):
        super().__init__()
        # proxy: one more plain smtpd at .proxy_port that expects a PROXY
        # protocol header first (smtpd_upstream_proxy_protocol = haproxy).
        self.proxy = proxy
        self.proxy_port = None
        # Lines appended to main.cf (a later setting overrides an earlier
        # one), e.g. "disable_vrfy_command = yes".
        self.extra_main_cf = extra_main_cf
        self.relay_domain = relay_domain
        self.users = dict(users)
        self.domain = domain
        self.hostname = hostname
        self.message_size_limit = message_size_limit
        self.cert = cert
        self.etc = os.path.join(self.workdir, "etc")
        self.maillog = os.path.join(self.workdir, "maillog")
        self._master = None
        self._started(self._start)

    # -- start-up ----------------------------------------------------------

    def _start(self):
        for name in ("etc", "etc/sasl", "spool", "data", "mail"):
            os.makedirs(os.path.join(self.workdir, name), exist_ok=True)
        if self.cert is None:
            self.cert = make_cert(self.etc)
        self.port, self.tls_port, self.submission_port, proxy_port = \
            free_ports(4)
        if self.proxy:
            self.proxy_port = proxy_port
        open(self.maillog, "w").close()
        self._write_config()
        self._write_sasldb()
        self._prepare_dirs()
        self._run_postfix("check")
        # Run master as our own child (not "postfix start", which detaches
        # it): it makes itself a session and process group leader, and we
        # can reap it, so nothing lingers as a zombie or an orphan.
        env = dict(os.environ, MAIL_CONFIG=self.etc)
        with open(os.path.join(self.workdir, "master.log"), "wb") as log:
            self._master = subprocess.Popen(
                [os.path.join(self._postconf("daemon_directory"), "master"),
                 "-c", self.etc],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env)
        self._watchdog = _start_watchdog(self._master.pid)
        ports = ((self.port, False), (self.tls_port, True),
                 (self.submission_port, False))
        try:
            for port, tls in ports:
                wait_ready("127.0.0.1", port, tls=tls,
                           alive=self._master_alive,
                           describe=self._describe_failure)
        except RuntimeError as e:
            # master's "bind: address already in use" is logged before its
            # logger runs, so it is lost: look for the taken port instead.
            if not self._master_alive() and any(
                    _port_taken(port) for port, _ in ports):
                raise PortInUse(str(e)) from e
            raise

    def _postconf(self, name):
        proc = subprocess.run(["postconf", "-c", self.etc, "-h", name],
                              capture_output=True, text=True, check=True)
        return proc.stdout.strip()

    def _write_config(self):
        nobody = _user_ids("nobody")
        mailboxes = ", ".join(f"{u}@{self.domain}={u}/" for u in self.users)
        members = ",".join(f"{u}@{self.domain}" for u in self.users)
        main_cf = _POSTFIX_MAIN_CF.format(
            work=self.workdir, hostname=self.hostname, domain=self.domain,
            size_limit=self.message_size_limit, mailboxes=mailboxes,
            list_members=members, uid=nobody[0], gid=nobody[1],
            cert=self.cert.cert, key=self.cert.key,
            relay_domain=self.relay_domain)
        if self.extra_main_cf:
            main_cf += "\n# Extra settings of this test.\n" + \
                self.extra_main_cf.strip() + "\n"
        master_cf = _POSTFIX_MASTER_CF.format(
            port=self.port, tls_port=self.tls_port,
            submission_port=self.submission_port)
        if self.proxy_port is not None:
            # Not probed by wait_ready (it greets only after a header);
            # master binds every service before any of them answers.
            master_cf += (f"127.0.0.1:{self.proxy_port} inet n - n - - "
                          "smtpd\n  -o smtpd_upstream_proxy_protocol=haproxy"
                          "\n  -o syslog_name=postfix/proxied\n")
        sasldb = os.path.join(self.etc, "sasldb2")
        paths = [os.path.join(self.etc, "main.cf"),
                 os.path.join(self.etc, "master.cf"),
                 os.path.join(self.etc, "sasl", "smtpd.conf")]
        for path, text in zip(paths, (main_cf, master_cf,
                                      _SASL_SMTPD_CONF.format(sasldb=sasldb))):
            _write(path, text)
        # A config file younger than a second or two makes Postfix wait
        # for it to "settle"; back-date them.
        past = time.time() - 10
        for path in paths:
            os.utime(path, (past, past))

    def _write_sasldb(self):
        sasldb = os.path.join(self.etc, "sasldb2")
        for user, secret in self.users.items():
            proc = subprocess.run(
                ["saslpasswd2", "-p", "-c", "-f", sasldb, "-u", self.domain,
                 user], input=secret.encode(), capture_output=True)
            if proc.returncode != 0:
                raise RuntimeError("saslpasswd2 failed: " +
                                   proc.stderr.decode(errors="replace"))
        postfix_gid = _user_ids("postfix")[1]
        os.chown(sasldb, 0, postfix_gid)
        os.chmod(sasldb, 0o640)

    def _prepare_dirs(self):
        postfix_ids = _user_ids("postfix")
        nobody_ids = _user_ids("nobody")
        os.chown(os.path.join(self.workdir, "data"), *postfix_ids)
        os.chmod(os.path.join(self.workdir, "data"), 0o700)
        os.chown(os.path.join(self.workdir, "mail"), *nobody_ids)

    def _run_postfix(self, *args):
        proc = subprocess.run(["postfix", "-c", self.etc, *args],
                              capture_output=True, text=True,
                              env=dict(os.environ, MAIL_CONFIG=self.etc))
        if proc.returncode != 0:
            raise RuntimeError(f"postfix {' '.join(args)} failed "
                               f"(exit {proc.returncode}): {proc.stdout}"
                               f"{proc.stderr}\n{self._describe_failure()}")

    def _master_alive(self):
        return self._master is not None and self._master.poll() is None

    def _describe_failure(self):
        text = "Postfix maillog:\n" + self.log()[-4000:]
        try:
            with open(os.path.join(self.workdir, "master.log"),
                      errors="replace") as f:
                text += "\nmaster's own output:\n" + f.read()[-2000:]
        except OSError:
            pass
        if self._master_alive():
            ps = subprocess.run(["ps", "-o", "pid,stat,wchan:20,args",
                                 "-s", str(self._master.pid)],
                                capture_output=True, text=True)
            text += "\nits processes:\n" + ps.stdout[-2000:]
        return text

    def log(self):
        """The instance's maillog (useful in assertion messages)."""
        try:
            with open(self.maillog, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # -- mailboxes ---------------------------------------------------------

    def maildir(self, user, count=1, timeout=5.0):
        """Paths of the messages delivered to user's Maildir, oldest first.

        Waits up to timeout seconds for at least count messages."""
        base = os.path.join(self.workdir, "mail", user)

        def listing():
            paths = glob.glob(os.path.join(base, "new", "*")) + \
                glob.glob(os.path.join(base, "cur", "*"))
            return sorted(paths, key=lambda p: (os.stat(p).st_mtime_ns, p))

        _wait_for(lambda: len(listing()) >= count, timeout)
        return listing()

    def new_messages(self, user, before, timeout=5.0):
        """Messages in user's Maildir not in the collection before,
        waiting up to timeout seconds for at least one."""
        before = set(before)
        paths = self.maildir(user, count=len(before) + 1, timeout=timeout)
        return [p for p in paths if p not in before]

    # -- shutdown ----------------------------------------------------------

    def _shutdown(self):
        if self._master is None:
            return
        self._watchdog.kill()
        self._watchdog.wait()
        # master forwards SIGTERM to its process group, then exits.
        _terminate_group(self._master.pid, leader=self._master)
