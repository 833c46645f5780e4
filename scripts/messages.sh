#!/usr/bin/env bash
# Refresh the translation catalogues after changing user-visible text:
#   scripts/messages.sh
# Then translate every new or fuzzy entry in locale/zh_Hans/LC_MESSAGES/django.po.
# The English catalogue is filled from the (English) msgids automatically.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBIN=.venv/bin/python
# English is msgid = msgstr: rebuild it from scratch, so msgmerge leaves no fuzzy guesses in it.
rm -f locale/en/LC_MESSAGES/django.po
"$PYBIN" manage.py makemessages -l zh_Hans -l en --no-obsolete --no-location \
  --ignore=.venv --ignore=staticfiles --ignore=test-artifacts --ignore=tests -v 0
msgen --no-wrap -o locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
"$PYBIN" - <<'PY'
import polib
po = polib.pofile("locale/zh_Hans/LC_MESSAGES/django.po")
missing = [e.msgid for e in po if not e.translated() or "fuzzy" in e.flags]
print(f"zh_Hans: {len(po)} messages, {len(missing)} to translate")
for msgid in missing:
    print("  ", msgid)
PY
