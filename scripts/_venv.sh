# Sourced by the set-up scripts: make .venv and install newsner with the given extras, once per change
# of pyproject.toml. Usage: . scripts/_venv.sh "dev,studio"
set -euo pipefail
extras="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${NEWSNER_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
stamp="$venv/.newsner-installed-$extras-$(sha256sum "$root/pyproject.toml" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e "$root[model,$extras]"
  touch "$stamp"
fi
export PATH="$venv/bin:$PATH"
cd "$root"
