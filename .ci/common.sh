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
