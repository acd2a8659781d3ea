# bash completion for agentctl(8)                              -*- shell-script -*-
#
# The commands, their operands and options come from `agentctl --help`
# itself (so this never drifts from the program); node and VM names from
# the running agent (`agentctl node list --json`, `agentctl vm list
# --json`), when it answers.

# The command lines of `agentctl --help`: "vm start VM [--on HOST]".
_agentctl_synopses()
{
    "${1:-agentctl}" --help 2>/dev/null | awk '
        /^commands:/ { c = 1; next }
        c && /^$/ { exit }
        c && /^  [^ ]/ { sub(/^  /, ""); sub(/  +.*/, ""); print }'
}

# Names of the nodes or VMs (kind: node | vm) known to the local agent.
_agentctl_names()
{
    local prog=$1 kind=$2 json
    json=$("$prog" "$kind" list --json 2>/dev/null) || return 0
    if command -v jq >/dev/null 2>&1; then
        printf '%s\n' "$json" | jq -r ".${kind}s[]?.name // empty" 2>/dev/null
    else
        printf '%s\n' "$json" | grep -o '"name": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/'
    fi
}

_agentctl()
{
    local cur prev prog=${COMP_WORDS[0]}
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD-1]}
    COMPREPLY=()

    # the words typed so far, options (and the values of --on, --count,
    # --parallel, --timeout, --yes-i-checked, --role, --id) left out
    local -a words=()
    local i w skip=
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -n $skip ]]; then skip=; continue; fi
        case $w in
            --on|--count|-n|--parallel|--timeout|--yes-i-checked|--role|--id) skip=1 ;;
            # vm create's (agent/ctl_create_cli.c)
            --template|--ip|--netmask|--gateway|--nameserver|--mac|--memory|--vcpus|\
            --disk|--swap|--description) skip=1 ;;
            # vm backup, vm restore, backup list (agent/ctl_backup_cli.c)
            --dest|--as) skip=1 ;;
            -*) ;;
            *) words+=("$w") ;;
        esac
    done

    case $prev in
        --on|--yes-i-checked)
            COMPREPLY=($(compgen -W "$(_agentctl_names "$prog" node)" -- "$cur"))
            return 0 ;;
        --role)
            COMPREPLY=($(compgen -W "dom0 san" -- "$cur"))
            return 0 ;;
        --count|-n|--parallel|--timeout|--id)
            return 0 ;;
        --template)
            # the templates, when this is a SAN node (they live there)
            local tj
            tj=$("$prog" template list --json 2>/dev/null) &&
                COMPREPLY=($(compgen -W "$(printf '%s\n' "$tj" |
                    grep -o '"name": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/')" -- "$cur"))
            return 0 ;;
        --ip|--netmask|--gateway|--nameserver|--mac|--memory|--vcpus|--disk|--swap|--description)
            return 0 ;;
        --dest)
            COMPREPLY=($(compgen -d -- "$cur")); compopt -o filenames 2>/dev/null
            return 0 ;;
        --as)
            return 0 ;;
    esac

    local -a syn
    local line
    mapfile -t syn < <(_agentctl_synopses "$prog")

    # the lines whose leading command words match what was typed; what
    # comes next in them: another command word, an operand, or options
    local -A next=()
    local opts="--json --help --version" operand=
    for line in "${syn[@]}"; do
        local -a t
        read -r -a t <<< "$line"
        local ok=1 n=${#words[@]}
        # match the typed words against the line's words (command words
        # literally, placeholders: anything)
        local j=0 pos=0
        for ((j = 0; j < ${#t[@]} && pos < n; j++)); do
            case ${t[j]} in
                \[*|*\]) continue ;;
                [a-z]*)
                    if [[ ${t[j]} == *"|"* ]]; then
                        [[ "|${t[j]}|" == *"|${words[pos]}|"* ]] || { ok=0; break; }
                    elif [[ ${t[j]} != "${words[pos]}" ]]; then
                        ok=0; break
                    fi ;;
                --*) continue ;;
            esac
            pos=$((pos + 1))
        done
        ((ok)) || continue
        # past the line's end: only its options are left
        for ((; j < ${#t[@]}; j++)); do
            case ${t[j]} in
                \[[A-Z]*\]) break ;;     # an optional operand: vm restore VM [BACKUP]
                \[*|*\]) ;;
                --*) ;;
                *) break ;;
            esac
        done
        local o
        for o in "${t[@]}"; do
            o=${o#[}; o=${o%]}
            [[ $o == --* ]] && opts+=" ${o%%|*}"
        done
        ((pos < n)) && continue     # more words typed than this line takes
        if ((j < ${#t[@]})); then
            case ${t[j]} in
                [a-z]*"|"*) local v; for v in ${t[j]//|/ }; do next[$v]=1; done ;;
                [a-z]*) next[${t[j]}]=1 ;;
                *) operand=${t[j]#[}; operand=${operand%]} ;;
            esac
        fi
    done

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    case $operand in
        VM) COMPREPLY=($(compgen -W "$(_agentctl_names "$prog" vm)" -- "$cur")) ;;
        NODE|HOST) COMPREPLY=($(compgen -W "$(_agentctl_names "$prog" node)" -- "$cur")) ;;
        FILE*) COMPREPLY=($(compgen -f -- "$cur")); compopt -o filenames 2>/dev/null ;;
        LEVEL) COMPREPLY=($(compgen -W "error warning notice info debug" -- "$cur")) ;;
        BACKUP)
            # the stamps of the VM's backups, when this is a SAN node
            COMPREPLY=($(compgen -W "$("$prog" backup list "${words[2]}" 2>/dev/null |
                awk 'NR > 1 {print $2}')" -- "$cur")) ;;
        *) COMPREPLY=($(compgen -W "${!next[*]}" -- "$cur")) ;;
    esac
    return 0
}
complete -F _agentctl agentctl
