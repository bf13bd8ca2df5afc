#!/bin/sh
# The layering rule (DESIGN.md section 5): only tui/ includes ncurses and
# readline, only history/ SQLite, only protocol/ OpenSSL (and c-ares,
# libidn2, libgsasl); core/ includes
# none of the other folders; nothing below tui/ includes tui/.
# Exits 1 and names each offending line.
set -u
cd "$(dirname "$0")/.." || exit 2
bad=0
check() { # pattern allowed-folder description
	hits=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($1)" \
		core protocol history themes tui --include='*.c' --include='*.h' |
		grep -v "^$2/")
	if [ -n "$hits" ]; then
		printf '%s\n' "$hits" | sed "s|\$|   <- $3 belongs in $2/ only|"
		bad=1
	fi
}
check 'curses\.h|ncurses\.h|ncursesw/|readline/|term\.h' tui 'ncurses/readline'
check 'sqlite3\.h' history 'SQLite'
check 'openssl/' protocol 'OpenSSL'
check 'ares\.h' protocol 'c-ares'
check 'idn2\.h' protocol 'libidn2'
check 'gsasl\.h|gsasl-mech\.h' protocol 'libgsasl'
check 'tui/' tui 'a tui/ header'
hits=$(grep -rnE '#[[:space:]]*include[[:space:]]*"(protocol|history|themes)/' core \
	--include='*.c' --include='*.h')
[ -n "$hits" ] && { printf '%s   <- core/ must not depend on other layers\n' "$hits"; bad=1; }
for pair in 'protocol:history|themes' 'history:protocol|themes' 'themes:protocol|history'; do
	dir=${pair%%:*} others=${pair#*:}
	hits=$(grep -rnE "#[[:space:]]*include[[:space:]]*\"($others)/" "$dir" \
		--include='*.c' --include='*.h')
	[ -n "$hits" ] && { printf '%s   <- %s/ must not include %s/\n' "$hits" "$dir" "$others"; bad=1; }
done
[ $bad -eq 0 ] && echo "layers: ok"
exit $bad
