# bash completion for ehlo(1).  The lists come from ehlo itself
# (`ehlo complete KIND`), so they follow the program's own tables:
# subcommands, options, themes, probes, lessons, history ids, accounts.

_ehlo_list()
{
	"${1:-ehlo}" complete "${@:2}" 2>/dev/null
}

_ehlo()
{
	local cur prev bin sub i n words_left
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD - 1]}
	bin=${COMP_WORDS[0]}
	COMPREPLY=()

	# The value of an option.
	case $prev in
	--theme)
		mapfile -t COMPREPLY < <(compgen -W "$(_ehlo_list "$bin" themes)" -- "$cur")
		return 0 ;;
	-a | --account)
		mapfile -t COMPREPLY < <(compgen -W "$(_ehlo_list "$bin" accounts)" -- "$cur")
		return 0 ;;
	--format)
		mapfile -t COMPREPLY < <(compgen -W "text json swaks curl script" -- "$cur")
		return 0 ;;
	--ret)
		mapfile -t COMPREPLY < <(compgen -W "FULL HDRS" -- "$cur")
		return 0 ;;
	--proxy-header)
		mapfile -t COMPREPLY < <(compgen -W "v1 v2" -- "$cur")
		return 0 ;;
	--auth)
		mapfile -t COMPREPLY < <(compgen -W "auto PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER SCRAM-SHA-1 SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-256-PLUS GSSAPI" -- "$cur")
		return 0 ;;
	--cafile | --body | --attach | --db | --config)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		return 0 ;;
	esac
	if [[ $prev == -* ]] &&
		_ehlo_list "$bin" value-options | grep -qxF -- "$prev"; then
		return 0 # a value ehlo cannot guess (a name, a number)
	fi

	if [[ $cur == -* ]]; then
		mapfile -t COMPREPLY < <(compgen -W "$(_ehlo_list "$bin" options)" -- "$cur")
		return 0
	fi
	if ((COMP_CWORD == 1)); then
		mapfile -t COMPREPLY < <(compgen -W "$(_ehlo_list "$bin" commands)" -- "$cur")
		return 0
	fi

	# The subcommand is always the first word; count the positional
	# arguments before this one (the value of an option is not one).
	sub=${COMP_WORDS[1]}
	n=0
	words_left=$(_ehlo_list "$bin" value-options)
	for ((i = 2; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) grep -qxF -- "${COMP_WORDS[i]}" <<<"$words_left" && ((i++)) ;;
		*) ((n++)) ;;
		esac
	done
	case $sub:$n in
	probe:0)
		mapfile -t COMPREPLY < <(compgen -W "$(_ehlo_list "$bin" probes)" -- "$cur") ;;
	show:0 | export:0 | replay:0)
		mapfile -t COMPREPLY < <(compgen -W "$(_ehlo_list "$bin" history)" -- "$cur") ;;
	lesson:0)
		mapfile -t COMPREPLY < <(compgen -W "$(_ehlo_list "$bin" lessons)" -- "$cur") ;;
	complete:0)
		mapfile -t COMPREPLY < <(compgen -W "commands options value-options themes probes lessons history accounts" -- "$cur") ;;
	run:1)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	esac
	return 0
}
complete -F _ehlo ehlo
