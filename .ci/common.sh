# What the scripts of .ci share; sourced from the repository's root, after `root` is set.

# Installs the Python package `$1` at version `$2` into a virtual environment of its own, cached between runs
# (`$XDG_CACHE_HOME` or ~/.cache), unless its command `$3` is there already; sets `venv` to it.
python_tool() {
  local package=$1 version=$2 command=$3
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/authtoken/$package-$version"
  if [ ! -x "$venv/bin/$command" ]; then
    echo "installing $package $version into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package==$version"
  fi
}

# Installs the pinned packages of the requirements file `$1` into a virtual environment named after the file's
# contents, cached as `python_tool`'s are; sets `venv` to it.
python_requirements() {
  local file=$1
  venv="${XDG_CACHE_HOME:-$HOME/.cache}/authtoken/requirements-$(sha256sum "$file" | cut -c1-16)"
  if [ ! -f "$venv/installed" ]; then
    echo "installing $file into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$file"
    touch "$venv/installed"
  fi
}

# Sets `bin` to the binary to test: `$SERVICE_BIN` when set, otherwise the debug binary, built first.
service_binary() {
  bin="${SERVICE_BIN:-}"
  if [ -z "$bin" ]; then
    cargo build --quiet -p authtoken-server --bin authtoken
    bin="${CARGO_TARGET_DIR:-$root/target}/debug/authtoken"
  fi
  bin=$(realpath "$bin")
}

# Waits until the service whose log is the file `$1` (process `$2`) says where it listens, and sets `url` to it; prints
# the log and fails when the service stops first or says nothing for 30 seconds.
await_service() {
  local log=$1 pid=$2
  url=""
  for _ in $(seq 1 300); do
    url=$(grep -o "listening on http://[0-9.:]*" "$log" | head -n 1 | sed 's/listening on //') || true
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the service did not start; its log:" >&2
  cat "$log" >&2
  exit 1
}
