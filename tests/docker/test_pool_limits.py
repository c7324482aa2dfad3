"""The pool's [limits] reach every container a seat runs on a pool engine, as it is created."""

from __future__ import annotations

import time

import docker
import pytest

from tests.pool_engines import pool_engines
from tutor.engine import containers, labels
from tutor.workshop.limits import LimitKeeper
from tutor.workshop.pool import Limits, Pool, PoolEngine

SEAT = "pytest-limits"


def _host_config(api: docker.APIClient, container_id: str) -> dict:
    return api.inspect_container(container_id)["HostConfig"]


@pytest.mark.timeout(300)
def test_a_seats_container_gets_the_pools_limits():
    limits = Limits(memory=64 * 1024 * 1024, cpus=0.5, pids=64)
    with pool_engines(1) as (engine,):
        api = docker.APIClient(base_url=engine.url, version="auto")
        already = containers.run_container(api, "alpine:latest", command="sleep 600", seat=SEAT)
        said: list[str] = []
        keeper = LimitKeeper(Pool((PoolEngine("one", engine.url, 4),)), limits, said.append)
        keeper.start()
        try:
            later = containers.run_container(api, "alpine:latest", command="sleep 600", seat=SEAT)
            unlabelled = api.create_container("alpine:latest", command=["sleep", "600"])["Id"]  # not the tutor's
            api.start(unlabelled)
            deadline = time.monotonic() + 30
            while keeper.limited < 2 and time.monotonic() < deadline:  # wait on state: both limited
                time.sleep(0.1)
            for info in (already, later):
                host = _host_config(api, info.id)
                assert (host["Memory"], host["MemorySwap"], host["NanoCpus"], host["PidsLimit"]) == (
                    64 * 1024 * 1024, 64 * 1024 * 1024, 500_000_000, 64,
                )
            assert _host_config(api, unlabelled)["Memory"] == 0  # another's container is left alone
            # The limit holds: a process that wants more memory than the limit is killed.
            hungry = api.exec_create(later.id, ["sh", "-c", "head -c 200m /dev/zero | tail > /dev/null"])
            api.exec_start(hungry)
            assert api.exec_inspect(hungry)["ExitCode"] != 0
        finally:
            keeper.stop()
            for c in api.containers(all=True, filters={"label": f"{labels.SEAT}={SEAT}"}):
                api.remove_container(c["Id"], force=True)
            api.remove_container(unlabelled, force=True)
        assert said == []
