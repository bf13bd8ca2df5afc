# fish completion for ehlo(1).  The lists come from ehlo itself
# (`ehlo complete KIND`), so they follow the program's own tables:
# subcommands, options, themes, probes, lessons, history ids, accounts.

function __ehlo_list
    command ehlo complete $argv 2>/dev/null
end

# The subcommand (the first word after ehlo) is $argv[1].
function __ehlo_sub
    set -l t (commandline -opc)
    test (count $t) -ge 2; and test "$t[2]" = "$argv[1]"
end

# No positional argument yet after the subcommand.
function __ehlo_first_arg
    set -l t (commandline -opc)
    set -l valopts (__ehlo_list value-options)
    set -l n 0
    set -l skip 0
    for w in $t[3..-1]
        if test $skip -eq 1
            set skip 0
        else if string match -q -- '-*' $w
            contains -- $w $valopts; and set skip 1
        else
            set n (math $n + 1)
        end
    end
    test $n -eq 0
end

complete -c ehlo -f
complete -c ehlo -n __fish_use_subcommand -a '(__ehlo_list commands)'
complete -c ehlo -n 'string match -q -- "-*" (commandline -ct)' \
    -a '(__ehlo_list options)'
complete -c ehlo -l theme -x -a '(__ehlo_list themes)'
complete -c ehlo -s a -l account -x -a '(__ehlo_list accounts)'
complete -c ehlo -l format -x -a 'text json swaks curl script'
complete -c ehlo -l ret -x -a 'FULL HDRS'
complete -c ehlo -l proxy-header -x -a 'v1 v2'
complete -c ehlo -l auth -x -a 'auto PLAIN LOGIN CRAM-MD5 XOAUTH2 OAUTHBEARER SCRAM-SHA-1 SCRAM-SHA-1-PLUS SCRAM-SHA-256 SCRAM-SHA-256-PLUS GSSAPI'
complete -c ehlo -l cafile -r -F
complete -c ehlo -l body -r -F
complete -c ehlo -l attach -r -F
complete -c ehlo -l db -r -F
complete -c ehlo -l config -r -F
complete -c ehlo -n '__ehlo_sub probe; and __ehlo_first_arg' \
    -a '(__ehlo_list probes)'
for sub in show export replay
    complete -c ehlo -n "__ehlo_sub $sub; and __ehlo_first_arg" \
        -a '(__ehlo_list history)'
end
complete -c ehlo -n '__ehlo_sub lesson; and __ehlo_first_arg' \
    -a '(__ehlo_list lessons)'
complete -c ehlo -n '__ehlo_sub complete; and __ehlo_first_arg' \
    -a 'commands options value-options themes probes lessons history accounts'
