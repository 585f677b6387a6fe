"""The generated secret key: one per data folder, whole, whichever of several processes starting at once makes it."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from caseloop.config import settings as config


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CASELOOP_SECRET_KEY", raising=False)


def test_processes_starting_at_once_on_a_new_folder_share_one_whole_key(tmp_path: Path) -> None:
    # given eight processes (threads here) starting together on a data folder with no key yet
    start = threading.Barrier(8)
    keys: list[str] = []

    def boot() -> None:
        start.wait()
        keys.append(config._secret_key(tmp_path))

    threads = [threading.Thread(target=boot) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then they all sign with the one key in the folder, readable by its owner only, and no draft is left
    stored = (tmp_path / "secret_key").read_text()
    assert len(keys) == 8 and set(keys) == {stored} and len(stored) >= 50
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]


def test_a_process_starting_while_another_writes_the_key_gets_that_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a process that has written its new key but not yet put it in place
    seen_meanwhile: list[str] = []
    real_link = os.link

    def other_process_starts_first(source: str | Path, target: str | Path) -> None:
        if not seen_meanwhile:
            with monkeypatch.context() as inner:
                inner.setattr(os, "link", real_link)
                seen_meanwhile.append(config._secret_key(tmp_path))  # the second process, in that moment
        real_link(source, target)

    monkeypatch.setattr(os, "link", other_process_starts_first)
    # when it goes on, it finds the other's key in place: both sign with that one
    assert config._secret_key(tmp_path) == seen_meanwhile[0] == (tmp_path / "secret_key").read_text()
    assert seen_meanwhile[0]


def test_a_file_system_without_hard_links_still_gets_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(source: str | Path, target: str | Path) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    key = config._secret_key(tmp_path)
    assert key and (tmp_path / "secret_key").read_text() == key
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret_key"]
    assert config._secret_key(tmp_path) == key  # the next process reads it


def test_an_empty_key_file_is_refused_never_used_as_the_key(tmp_path: Path) -> None:
    # given a key file with nothing in it (what a reader saw while another process was still writing it)
    (tmp_path / "secret_key").write_text("")
    # then starting says so, instead of running with an empty key that signs nothing
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        config._secret_key(tmp_path)
    assert (tmp_path / "secret_key").read_text() == ""


def test_the_environment_wins_over_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CASELOOP_SECRET_KEY", "from-the-environment")
    assert config._secret_key(tmp_path) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
