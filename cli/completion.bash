# bash completion for peakbench (installed as share/bash-completion/completions/peakbench).
# Commands, each command's options, suite names, and files where an option takes a file.

_peakbench() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur="${COMP_WORDS[COMP_CWORD]}"
    prev="${COMP_WORDS[COMP_CWORD-1]}"
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  local commands="run serve fetch wheel compare gate table merge plot report"
  local command="" i
  for ((i = 1; i < cword; i++)); do
    if [[ "${words[i]}" != -* ]]; then command="${words[i]}"; break; fi
  done

  case "$prev" in
    --out | --junit | --rules | --baseline | --suite)
      if [[ "$prev" == --suite ]]; then
        local data suites=""
        data="$(dirname "$(command -v peakbench 2>/dev/null || echo /usr/bin/peakbench)")/../share/peakbench/scenarios"
        if [[ -d "$data" ]]; then
          suites="$(cd "$data" && ls -- *.json 2>/dev/null | sed 's/\.json$//')"
        fi
        COMPREPLY=($(compgen -W "$suites" -- "$cur") $(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
      else
        COMPREPLY=($(compgen -f -- "$cur"))
      fi
      return ;;
    --work-dir | --git-dir | --measured-checkout | --cache-dir | --hash-cache)
      COMPREPLY=($(compgen -d -- "$cur")); return ;;
    --strategy) COMPREPLY=($(compgen -W "whole-body streaming tee-mmap none" -- "$cur")); return ;;
    --phase) COMPREPLY=($(compgen -W "cold warm revalidate" -- "$cur")); return ;;
    --format) COMPREPLY=($(compgen -W "md csv json" -- "$cur")); return ;;
    --allocator) COMPREPLY=($(compgen -W "glibc jemalloc" -- "$cur")); return ;;
    --size | --repeat | --shard | --label | --port | --bind | --memory-limit | --sample-ms | \
      --max-increase | --client | --pip | --seed | --name | --wheel-version | --variant)
      return ;;  # a value the user types
  esac

  local opts
  case "$command" in
    "") opts="--help --version"
      if [[ "$cur" != -* ]]; then COMPREPLY=($(compgen -W "$commands" -- "$cur")); return; fi ;;
    run) opts="--suite --size --strategy --phase --client --pip --repeat --label --out --format
               --shard --allocator --sample-ms --memory-limit --work-dir --keep-work-dir
               --git-dir --quiet --help" ;;
    serve) opts="--size --port --bind --variant --name --wheel-version --seed --hash-cache --help" ;;
    wheel) opts="--size --out --name --wheel-version --seed --hash-cache --help" ;;
    fetch) opts="--strategy --cache-dir --out --help" ;;
    compare) opts="--format --help" ;;
    gate) opts="--rules --baseline --max-increase --junit --help" ;;
    table) opts="--format --help" ;;
    merge) opts="--out --help" ;;
    plot | report) opts="--out --help" ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -F _peakbench peakbench
