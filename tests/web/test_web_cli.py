"""``dermatwin serve``: refused in one line before anything starts when it would expose the
server beyond this machine without an access token."""

from __future__ import annotations

import pytest

from dermatwin.cli import main


@pytest.mark.parametrize(
    "args, message",
    [
        (["--host", "0.0.0.0"], "error: --host 0.0.0.0: beyond 127.0.0.1 the server needs --token"),
        (["--token", "short"], "error: --token: at least 16 characters"),
        (["--port", "0"], "--port"),
    ],
)
def test_serve_refuses_unsafe_settings(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.delenv("DERMATWIN_TOKEN", raising=False)
    with pytest.raises(SystemExit) as exit:
        main(["serve", "--data", str(tmp_path / "data"), *args])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "data").exists()  # nothing started, nothing written
