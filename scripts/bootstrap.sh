# Shared setup for ./run and ./test. Sourced, not executed.
#   bootstrap_python          -> sets $PY to a Python >= 3.12 interpreter, or stops
#   bootstrap_venv FILE       -> .venv exists and has FILE's pinned requirements
#   bootstrap_apt PKG...      -> installs Debian packages that are missing (root or sudo only)
#   bootstrap_translations    -> compiles locale/*.po into .mo files

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

_python_ok() {
  "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1
}

bootstrap_python() {
  PY=""
  local cand
  for cand in python3.13 python3.12; do
    if command -v "$cand" >/dev/null 2>&1 && _python_ok "$cand"; then
      PY="$(command -v "$cand")"
      return
    fi
  done
  # pyenv installs python3.X shims that refuse to run unless that version is selected;
  # use the interpreter behind the shim directly.
  local root="${PYENV_ROOT:-$HOME/.pyenv}"
  for cand in "$root"/versions/3.13*/bin/python3.13 "$root"/versions/3.12*/bin/python3.12; do
    if [ -x "$cand" ] && _python_ok "$cand"; then
      PY="$cand"
      return
    fi
  done
  die "Shanhuo needs Python 3.12 or newer (Django 6). Install python3.13 or python3.12 (e.g. 'apt-get install python3.12-venv' or 'pyenv install 3.13') and run this again."
}

bootstrap_venv() {
  local reqs="$1"
  if [ -x "$VENV/bin/python" ] && ! _python_ok "$VENV/bin/python"; then
    warn ".venv uses a Python older than 3.12; recreating it"
    rm -rf "$VENV"
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    say "Creating .venv with $("$PY" --version)"
    "$PY" -m venv "$VENV" || die "could not create .venv (is the venv module installed for $PY?)"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
  fi
  # Reinstall only when the pinned requirements changed since the last install.
  local stamp="$VENV/.requirements-$(basename "$reqs").sha256"
  local want
  want="$(cat "$ROOT/requirements.txt" "$ROOT/$reqs" | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Installing $reqs"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$reqs" \
      || die "pip could not install $reqs"
    echo "$want" > "$stamp"
  fi
}

bootstrap_apt() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else
      warn "missing Debian packages: ${missing[*]} (run: apt-get install ${missing[*]})"
      return 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    warn "missing packages: ${missing[*]} (no apt-get here; install them with your package manager)"
    return 1
  fi
  say "Installing Debian packages: ${missing[*]}"
  $sudo apt-get update -q >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
    warn "apt-get could not install: ${missing[*]}"
    return 1
  }
}

bootstrap_translations() {
  if ! command -v msgfmt >/dev/null 2>&1; then
    bootstrap_apt gettext || die "compiling translations needs msgfmt (Debian package 'gettext')"
  fi
  (cd "$ROOT" && "$VENV/bin/python" manage.py compilemessages --ignore=.venv -v 0) \
    || die "could not compile translations"
}
