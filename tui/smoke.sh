#!/usr/bin/env bash
# Smoke test of the terminal UI in a real terminal (tmux): `go run .` opens the classroom
# cluster; the screen shows ISR, HW and LEO and the story strip; `?` opens the help; space
# pauses, `j`/`k` move the selection, `K` asks before it kills the selected partition's leader
# and `y` confirms, `:heal` runs a typed statement; `b` adds broker 4 and `R` opens a
# reassignment of the selected partition on the command line (esc cancels); `q` quits. Then
# `tui acks1-loss --compare acks=1,all`: both worlds stop at the script's pause, space goes on,
# the acks=1 world loses records; `q` quits.
#
# Run from the repository root: tui/smoke.sh   (CI: add `bash tui/smoke.sh` to .ci/run)
# KAFKASIM_CMD overrides the command started (default: a binary built with `go build`).
set -euo pipefail

cd "$(dirname "$0")/.."
if ! command -v tmux >/dev/null 2>&1; then
	echo "smoke: installing tmux"
	if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq tmux >/dev/null
	else sudo apt-get update -qq && sudo apt-get install -y -qq tmux >/dev/null; fi
fi

bin=$(mktemp -d)/kafkasim
cmd=${KAFKASIM_CMD:-}
if [ -z "$cmd" ]; then
	go build -o "$bin" .
	cmd=$bin
fi
sock=kafkasim-smoke-$$
cleanup() { tmux -L "$sock" kill-server >/dev/null 2>&1 || true; rm -rf "$(dirname "$bin")"; }
trap cleanup EXIT

tmux -L "$sock" new-session -d -x 120 -y 40 "TERM=xterm-256color $cmd"

# wait_for PATTERN SECONDS: poll the screen until PATTERN shows.
wait_for() {
	local pat=$1 limit=$2 i
	for ((i = 0; i < limit * 10; i++)); do
		if tmux -L "$sock" capture-pane -p 2>/dev/null | grep -q -- "$pat"; then return 0; fi
		sleep 0.1
	done
	echo "smoke: FAIL: the screen never showed '$pat'; it shows:" >&2
	tmux -L "$sock" capture-pane -p >&2 || true
	return 1
}

wait_for "ISR" 60
wait_for "HW" 5
wait_for "LEO" 5
wait_for "story " 5
tmux -L "$sock" send-keys '?'
wait_for "Keys" 5
wait_for "quit" 5
tmux -L "$sock" send-keys 'x'   # any key closes the help
wait_for "ISR" 5
tmux -L "$sock" send-keys Space
wait_for "‖ paused" 5
tmux -L "$sock" send-keys 'j' 'k'
wait_for "▸ orders/0" 5
tmux -L "$sock" send-keys 'K'
wait_for "kill leader orders/0? y confirms" 5
tmux -L "$sock" send-keys 'y'
wait_for "✓ kill leader" 5
tmux -L "$sock" send-keys ':' 'heal' Enter
wait_for "✓ heal" 5
tmux -L "$sock" send-keys 'b'
wait_for "✓ add broker 4" 5
tmux -L "$sock" send-keys 'R'
wait_for ":reassign orders/0 replicas=" 5
tmux -L "$sock" send-keys Escape
sleep 0.3   # let esc arrive alone, not as alt+q
wait_for "q quit" 5
# quit_ok: q quits the UI (its tmux session ends).
quit_ok() {
	tmux -L "$sock" send-keys 'q'
	for ((i = 0; i < 50; i++)); do
		if ! tmux -L "$sock" has-session 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "smoke: FAIL: q did not quit" >&2
	return 1
}
quit_ok

# tui FILE --compare: the two worlds side by side stop at the script's pause together; space
# leaves it, and the acks=1 world loses records the acks=all world keeps.
tmux -L "$sock" new-session -d -x 120 -y 40 "TERM=xterm-256color $cmd tui acks1-loss --compare acks=1,all"
wait_for "acks=1 vs acks=all" 30
wait_for "paused at line 19" 60
tmux -L "$sock" send-keys '+' '+' Space
wait_for "LOST" 60
quit_ok
echo "smoke: ok"
