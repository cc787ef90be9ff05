# Runs zsh's completion system on a command line in an interactive zsh on a pseudo-terminal
# and prints the matches offered, between <<< and >>> lines (one block per compadd call).
# Usage: zsh -f zsh-complete.zsh FPATH_DIR 'command line to complete'
zmodload zsh/zpty || exit 3
dir=$1 line=$2
zpty z zsh -f -i
zpty -w z "PS1= PROMPT= RPROMPT=; fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "compadd() { builtin compadd \"\$@\"; builtin compadd -O __m \"\$@\"; print -rl -- '<<<' \$__m '>>>' >/dev/tty; }"
zpty -w z "print READY"
zpty -r z out '*READY*'
zpty -w -n z "$line"$'\t'
zpty -r z out '*>>>*'
print -r -- "$out"
sleep 0.5
while zpty -r -t z out; do print -r -- "$out"; done
zpty -d z
