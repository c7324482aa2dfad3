"""Short names and sizes as the status line and the panes show them."""

from __future__ import annotations

from tutor import fmt


def test_engine_labels_name_the_engine_in_use() -> None:
    assert fmt.engine_label("unix:///var/run/docker.sock") == "local"
    assert fmt.engine_label("unix:///run/docker.sock") == "local"
    assert fmt.engine_label("unix:///srv/seat-3/docker.sock") == "local /srv/seat-3/docker.sock"
    assert fmt.engine_label("tcp://10.0.0.5:2376") == "10.0.0.5:2376"
