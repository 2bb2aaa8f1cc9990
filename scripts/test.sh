#!/usr/bin/env bash
# Runs every Lockbox check: formatting, vet, staticcheck, the tests with the
# race detector (unit, store suite on SQLite and MySQL, integration with the
# real binaries, OpenSSH tools, headless Chromium and Mailpit), short fuzzing of every parser of outside
# input, and the quick-start demo.
#
# It installs or starts what it needs when it can (as root, with apt-get),
# and otherwise says what is missing. With LOCKBOX_REQUIRE_INTEGRATION=1
# (as CI sets) a missing peer fails the run instead of skipping tests.
#
# Environment:
#   LOCKBOX_FUZZTIME        how long each fuzz target runs (default 5s; 0 skips)
#   LOCKBOX_TEST_MYSQL      MySQL server DSN for tests (default root@tcp(127.0.0.1:3306)/)
#   LOCKBOX_MAILPIT         a Mailpit binary to use instead of installing one
#   LOCKBOX_VERSITYGW       a versitygw binary to use instead of installing one
set -euo pipefail
cd "$(dirname "$0")/.."

# say prints a phase heading with the seconds since the script started
# (bash's SECONDS), so a CI log shows where the time goes.
say() { printf '\n== [%ds] %s\n' "$SECONDS" "$*"; }
missing=()

as_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
	if as_root && command -v apt-get >/dev/null; then
		say "installing $*"
		if [ -z "${LOCKBOX_APT_UPDATED:-}" ]; then
			DEBIAN_FRONTEND=noninteractive apt-get update -qq
			export LOCKBOX_APT_UPDATED=1
		fi
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
	else
		return 1
	fi
}

command -v go >/dev/null || { echo "Go is not installed: see https://go.dev/doc/install" >&2; exit 1; }

# OpenSSH: ssh-keygen reads back certificates and KRLs, the stock ssh
# client and sshd are the real peers of the bastion tests; curl is what the
# target setup scripts fetch with.
need_pkgs=()
command -v ssh-keygen >/dev/null && command -v ssh >/dev/null || need_pkgs+=(openssh-client)
[ -x /usr/sbin/sshd ] || need_pkgs+=(openssh-server)
command -v curl >/dev/null || need_pkgs+=(curl)
# openssl runs the webhook signature check that docs/notifications.md shows.
command -v openssl >/dev/null || need_pkgs+=(openssl)
# tmux drives a real terminal for the interactive bastion tests, which run vim.
command -v tmux >/dev/null || need_pkgs+=(tmux)
command -v vim >/dev/null || need_pkgs+=(vim)
# Debian's asciinema plays exported recordings in their test.
command -v asciinema >/dev/null || need_pkgs+=(asciinema)
# Headless Chromium drives the web form's end-to-end tests.
[ -x /usr/bin/chromium ] || need_pkgs+=(chromium)
# The fault tests run private MariaDB servers of their own
# (internal/mariadbtest), whatever serves 127.0.0.1:3306.
# systemd-analyze verifies the systemd units in deploy/.
command -v systemd-analyze >/dev/null || need_pkgs+=(systemd)
{ [ -x /usr/sbin/mariadbd ] && { command -v mariadb-install-db || command -v mysql_install_db; } >/dev/null; } || need_pkgs+=(mariadb-server)
# The MySQL backup test dumps and restores with the client tools.
{ command -v mariadb-dump && command -v mariadb; } >/dev/null || need_pkgs+=(mariadb-client)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	apt_install "${need_pkgs[@]}" || missing+=("${need_pkgs[*]} (apt-get install ${need_pkgs[*]})")
fi

# Mailpit is the real SMTP server of the email notification tests. It comes
# from the Go module proxy, built once into the user's cache directory and
# reused; the tests find it there (internal/mailpittest), or at
# $LOCKBOX_MAILPIT.
mailpit_version=v1.33.1
mailpit_dir="${XDG_CACHE_HOME:-$HOME/.cache}/lockbox/mailpit-$mailpit_version"
if [ -z "${LOCKBOX_MAILPIT:-}" ] && [ ! -x "$mailpit_dir/mailpit" ]; then
	say "installing Mailpit $mailpit_version (go install, once)"
	mkdir -p "$mailpit_dir"
	GOBIN="$mailpit_dir" go install "github.com/axllent/mailpit@$mailpit_version" ||
		missing+=("Mailpit (GOBIN=$mailpit_dir go install github.com/axllent/mailpit@$mailpit_version)")
fi

# versitygw is the real S3 server of the object-storage recording tests
# (a directory served through its posix backend). Like Mailpit it comes
# from the Go module proxy, built once into the user's cache directory;
# the tests find it there (internal/versitygwtest), or at
# $LOCKBOX_VERSITYGW.
versitygw_version=v1.8.0
versitygw_dir="${XDG_CACHE_HOME:-$HOME/.cache}/lockbox/versitygw-$versitygw_version"
if [ -z "${LOCKBOX_VERSITYGW:-}" ] && [ ! -x "$versitygw_dir/versitygw" ]; then
	say "installing versitygw $versitygw_version (go install, once)"
	mkdir -p "$versitygw_dir"
	GOBIN="$versitygw_dir" go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version" ||
		missing+=("versitygw (GOBIN=$versitygw_dir go install github.com/versity/versitygw/cmd/versitygw@$versitygw_version)")
fi

# Fuzzing needs Go 1.27 or newer: Go 1.26's fuzzing coordinator can fail a
# target with "context deadline exceeded" when -fuzztime ends, with no
# failing input (go.dev/issue/75804, fixed in Go 1.27). With an older Go,
# the fuzz phase runs on Go 1.27.3, which the go command fetches from the Go
# module proxy once (about 76 MB); the rest of the checks use the installed Go.
fuzz_go=local
if [ "${LOCKBOX_FUZZTIME:-5s}" != 0 ]; then
	case $(go env GOVERSION) in
	go1.2[0-6] | go1.2[0-6].* | go1.1[0-9] | go1.1[0-9].*)
		fuzz_go=go1.27.3
		GOTOOLCHAIN=$fuzz_go go version >/dev/null ||
			missing+=("Go 1.27.3 for fuzzing (GOTOOLCHAIN=go1.27.3 go version fetches it from the Go module proxy)")
		;;
	esac
fi

# MySQL or MariaDB at 127.0.0.1:3306 for the store suite and integration tests.
mysql_up() { (exec 3<>/dev/tcp/127.0.0.1/3306) 2>/dev/null; }
if [ -z "${LOCKBOX_TEST_MYSQL:-}" ] && ! mysql_up; then
	if ! command -v mariadbd >/dev/null && [ ! -x /usr/sbin/mariadbd ]; then
		apt_install mariadb-server || true
	fi
	if as_root && [ -x /usr/sbin/mariadbd ]; then
		say "starting MariaDB"
		mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
		start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
		for _ in $(seq 1 60); do mysql_up && break; sleep 0.5; done
	fi
	mysql_up || missing+=("MySQL/MariaDB at 127.0.0.1:3306 (apt-get install mariadb-server, then start it)")
fi
# Tests log in over TCP as root with an empty password unless told
# otherwise. Where root may not (Debian's default is socket login), make a
# test user that may only create and drop lockbox_test_* databases.
if [ -z "${LOCKBOX_TEST_MYSQL:-}" ] && mysql_up && command -v mariadb >/dev/null; then
	if ! mariadb -h127.0.0.1 -uroot -e 'SELECT 1' >/dev/null 2>&1; then
		if as_root && mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; then
			mariadb -uroot -e "CREATE USER IF NOT EXISTS 'lockbox_test'@'127.0.0.1'; GRANT ALL ON \`lockbox\_test\_%\`.* TO 'lockbox_test'@'127.0.0.1'"
			export LOCKBOX_TEST_MYSQL='lockbox_test@tcp(127.0.0.1:3306)/'
		else
			missing+=("a MySQL login for tests: set LOCKBOX_TEST_MYSQL=user:pw@tcp(127.0.0.1:3306)/ (the user must create databases lockbox_test_*)")
		fi
	fi
fi

# An account other than root for the sshd targets' logins: the command gate's
# tests show a command ends with its session for root and for another
# login (sshd runs them differently). Password "*", not "!": sshd without
# PAM refuses a locked account. Without root, the tests use the current user.
if as_root && ! id lockbox-test >/dev/null 2>&1; then
	say "creating the test account lockbox-test"
	useradd --create-home --shell /bin/sh --password '*' lockbox-test ||
		missing+=("the account lockbox-test (useradd --create-home --shell /bin/sh --password '*' lockbox-test)")
fi

if [ ${#missing[@]} -gt 0 ]; then
	say "missing test peers:"
	printf '  - %s\n' "${missing[@]}"
	if [ "${LOCKBOX_REQUIRE_INTEGRATION:-}" = 1 ]; then
		echo "LOCKBOX_REQUIRE_INTEGRATION=1: failing instead of skipping" >&2
		exit 1
	fi
	echo "tests that need them will be skipped"
fi

say "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

say "go vet"
go vet ./...

say "staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

say "go test -race"
# -parallel: only the integration tests call t.Parallel, and they mostly
# wait on the processes they start, so four at a time on two cores; the
# timing-sensitive ones stay serial (integration/harness_test.go).
go test -race -count=1 -timeout 20m -parallel 4 ./...

fuzztime=${LOCKBOX_FUZZTIME:-5s}
# fuzz_one fuzzes one target, with the Go that fuzz_go chose.
fuzz_one() {
	GOTOOLCHAIN=$fuzz_go go test -run '^$' -fuzz "^$2\$" -fuzztime "$fuzztime" "$1" >/tmp/lockbox-fuzz.log 2>&1
}
if [ "$fuzztime" != 0 ]; then
	say "fuzzing each target for $fuzztime"
	for pkg in $(go list ./...); do
		dir=$(go list -f '{{.Dir}}' "$pkg")
		for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //'); do
			echo "$pkg $target"
			fuzz_one "$pkg" "$target" || { cat /tmp/lockbox-fuzz.log; exit 1; }
		done
	done
fi

say "quick start"
scripts/demo.sh --check

# High availability: two CAs on one MariaDB database, two bastions, a
# target; one CA and one bastion are killed and a session still works.
say "high availability demo"
LOCKBOX_HA_MYSQL=${LOCKBOX_TEST_MYSQL:-root@tcp(127.0.0.1:3306)/} scripts/ha-demo.sh --check

say "all checks passed in ${SECONDS}s"
