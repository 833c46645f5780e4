"""Both catalogues are complete, and they hold every message the code and templates use."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = {
    "zh_Hans": ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po",
    "en": ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po",
}
SOURCES = ["manage.py", "core", "studio", "inventory", "orders", "shipping", "templates", "locale"]


def entry_ids(po: polib.POFile) -> set[tuple[str, str]]:
    return {(entry.msgctxt or "", entry.msgid) for entry in po if not entry.obsolete}


@pytest.mark.parametrize("language", sorted(CATALOGUES))
def test_every_message_is_translated(language):
    po = polib.pofile(str(CATALOGUES[language]))
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []
    assert len(po) > 100


def test_catalogues_hold_every_message_in_the_code(tmp_path):
    """Extract messages from a copy of the sources: a string added to the code or a template
    without running scripts/messages.sh (and translating it) fails here."""
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-location", "-v", "0"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        timeout=120,
    )
    extracted = entry_ids(polib.pofile(str(tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po")))
    for language, path in CATALOGUES.items():
        missing = extracted - entry_ids(polib.pofile(str(path)))
        assert sorted(missing) == [], f"{language} lacks these messages: run scripts/messages.sh"


def test_compiled_chinese_catalogue_is_used():
    with translation.override("zh-hans"):
        assert translation.gettext("Intake desk") == "收货台"
    with translation.override("en"):
        assert translation.gettext("Intake desk") == "Intake desk"
