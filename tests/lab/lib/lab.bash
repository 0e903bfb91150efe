# Shared by the lab tests in tests/lab/ (sourced, never run on its own): TAP checks,
# a ternlab lab that is always torn down, and helpers to reach its nodes.
#
# A test sets `build` (the build directory) and calls lab_up with a topology; lab_end
# tears the lab down, prints the plan line and exits with the tests' status.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
ternlab=$root/tools/ternlab/ternlab
work=$(mktemp -d)
n=0
failed=0
lab=""

# check NAME CMD...: one TAP line; on failure the command's last output lines follow.
check() {
	local name=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		sed 's/^/# /' <<<"$out" | tail -n 8
		failed=1
	fi
}

lab_cleanup() {
	[ -n "$lab" ] && timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1
	[ -n "${KEEP_WORK:-}" ] && echo "# kept $work" >&2 || rm -rf "$work"
}
trap lab_cleanup EXIT INT TERM

# lab_up TOPOLOGY WHAT: builds the lab (one check line); exits when it cannot.
lab_up() {
	local out
	out=$(timeout 60 "$ternlab" up "$1" --build "$build" 2>&1)
	lab=$(sed -n 's/^lab \(tl[0-9a-f]*\) .*/\1/p' <<<"$out" | head -n1)
	check "ternlab up $2" test -n "$lab"
	if [ -z "$lab" ]; then
		sed 's/^/# /' <<<"$out"
		echo "1..$n"
		exit 1
	fi
}

# x NODE -- CMD...: runs CMD in NODE's namespace, bounded in time.
x() { timeout 30 "$ternlab" exec --lab "$lab" "$@"; }

# ctl SITE ARGS...: ternctl --json against the site's ternd.
ctl() { timeout 10 "$root/$build/src/ctl/ternctl" --socket "/run/ternlab/$lab/ternd-$1.sock" --json "${@:2}"; }

# lab_end [NAME CMD...]: tears the lab down, checks no namespace is left (and the
# optional check NAME CMD after it), prints the plan and exits with the result.
lab_end() {
	local gone=$lab
	timeout 30 "$ternlab" down --lab "$lab" >/dev/null 2>&1
	lab=""
	check "down removes every namespace of the lab" bash -c "! ip netns list | grep -q '^$gone-'"
	[ $# -gt 0 ] && check "$@"
	echo "1..$n"
	exit $failed
}
