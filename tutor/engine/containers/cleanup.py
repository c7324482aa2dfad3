"""Cleaning a seat up: its labelled containers and images, then what its builds left (its ledger).

Only objects labelled ``io.tutor.managed=true`` (or recorded in a seat's ledger) are removed, and
never the course's base images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import docker
from docker.errors import APIError, NotFound

from tutor.engine import labels as tl
from tutor.engine import ledger
from tutor.engine.containers.actions import _api_text, _engine_errors, _is_base_image, _keeps_parents
from tutor.engine.containers.model import CleanupResult


def _depths(api: docker.APIClient) -> dict[str, int]:
    """How many ancestors each image has: a child is always deeper than its parent."""
    parents = {i["Id"]: i.get("ParentId") or "" for i in api.images(all=True)}
    depths: dict[str, int] = {}

    def depth(image_id: str) -> int:
        chain = []
        cur = image_id
        while cur and cur not in depths and cur not in chain:
            chain.append(cur)
            cur = parents.get(cur, "")
        base = depths.get(cur, -1) if cur else -1
        for i, node in enumerate(reversed(chain), start=1):
            depths[node] = base + i
        return depths.get(image_id, 0)

    for image_id in parents:
        depth(image_id)
    return depths


def _remove_managed_image(api: docker.APIClient, image: Mapping) -> int:
    """Remove one listed image without force; return the number of ids deleted.

    Each tag is removed by name (removing by id would need force when an image
    has several tags, and force also strips images from stopped containers).
    """
    deleted = 0
    tags = [t for t in image.get("RepoTags") or () if t != "<none>:<none>"]
    for ref in tags or [image["Id"]]:
        answer = api.remove_image(ref, noprune=_keeps_parents(api))
        deleted += sum(1 for entry in answer or () if entry.get("Deleted"))
    return deleted


def _remove_built_leftovers(api: docker.APIClient, seats: Sequence[str], others: set[str]) -> tuple[int, list[str]]:
    """Remove the untagged images the seats' builds produced (their ledgers) that nothing kept needs.

    Kept: anything tagged, any ancestor of an image that stays, what ``others`` lists (another
    seat's builds produced it: its cache), and images a container uses (the engine refuses those).
    """
    mine = set().union(*(ledger.recorded(seat) for seat in seats)) if seats else set()
    if not mine:
        return 0, []
    listed = api.images(all=True)
    parents = {i["Id"]: i.get("ParentId") or "" for i in listed}
    short = {i["Id"]: i["Id"].split(":", 1)[-1][:12] for i in listed}
    leftovers = {
        i["Id"]
        for i in listed
        if short[i["Id"]] in mine
        and short[i["Id"]] not in others
        and not [t for t in i.get("RepoTags") or () if t != "<none>:<none>"]
    }
    protected: set[str] = set()
    for image_id in parents:
        if image_id in leftovers:
            continue
        cur = parents.get(image_id, "")
        while cur and cur not in protected:
            protected.add(cur)
            cur = parents.get(cur, "")
    doomed = leftovers - protected
    depths = _depths(api) if doomed else {}
    deleted, failures, gone = 0, [], set()
    for image_id in sorted(doomed, key=lambda i: depths.get(i, 0), reverse=True):  # children first
        try:
            answer = api.remove_image(image_id)
            deleted += sum(1 for entry in answer or () if entry.get("Deleted"))
            gone.add(short[image_id])
        except NotFound:
            gone.add(short[image_id])  # pruned with its child
        except APIError as exc:
            if exc.status_code != 409:  # 409: a container still uses it; it stays, and so does its entry
                failures.append(f"image {short[image_id]}: {_api_text(exc)}")
    on_engine = set(short.values())
    for seat in seats:
        ledger.forget(seat, gone | (mine - on_engine))
    return deleted, failures


def _remove_build_containers(api: docker.APIClient, seats: Sequence[str]) -> tuple[int, list[str]]:
    """Remove the stopped step containers the seats' builds ran (their ledgers) and return how many.

    The classic builder removes each step's container when the step ends; only an engine that died
    mid-build leaves one, exited, with the labels of the image it ran. A running one belongs to a
    build still going: it stays, and so does its entry.
    """
    removed, failures = 0, []
    for seat in seats:
        gone = []
        for short in sorted(ledger.recorded_containers(seat)):
            try:
                data = api.inspect_container(short)
            except NotFound:
                gone.append(short)
                continue
            except APIError as exc:
                failures.append(f"build container {short}: {_api_text(exc)}")
                continue
            if not str(data.get("Id", "")).startswith(short):
                gone.append(short)  # the id names some other object now: never touch it
                continue
            if (data.get("State") or {}).get("Running"):
                continue
            try:
                api.remove_container(data["Id"], force=True, v=True)
                removed += 1
                gone.append(short)
            except NotFound:
                gone.append(short)
            except APIError as exc:
                failures.append(f"build container {short}: {_api_text(exc)}")
        if gone:
            ledger.forget_containers(seat, gone)
    return removed, failures


def cleanup_seat(api: docker.APIClient, seat: str | None = None) -> CleanupResult:
    """Remove every container and image labelled ``io.tutor.managed=true`` (of ``seat``).

    What goes: the labelled containers (stopped first, with their anonymous
    volumes), then the labelled images, children before parents.  The engine
    deletes each removed image's untagged parent chain with it (the classic
    builder's intermediate step images), unless another image or a container
    still uses a layer: shared cache stays, and so does an image that another
    image is built on (reported in ``kept``).

    Also the stopped step containers the seat's builds ran (recorded in its ledger): an engine that
    died mid-build leaves them behind carrying only their image's labels.

    Then the untagged images the seat's builds produced (its ledger, tutor.engine.ledger): the
    step images the containerd image store keeps after their final image went, and the last
    image of a multi-stage build's earlier stages, which carries no label.

    What stays: anything else, so base images (the course's and its stand-ins), other people's
    objects, and what another seat's images or cache still use.
    """
    filters = tl.seat_filter(seat)
    removed_c = removed_i = deleted = 0
    kept: list[str] = []
    failures: list[str] = []
    with _engine_errors():
        for c in api.containers(all=True, filters=filters):
            name = (c.get("Names") or [c["Id"][:12]])[0].lstrip("/")
            try:
                api.remove_container(c["Id"], force=True, v=True)
                removed_c += 1
            except NotFound:
                pass  # went away meanwhile
            except APIError as exc:
                failures.append(f"container {name}: {_api_text(exc)}")

        left, left_failures = _remove_build_containers(api, [seat] if seat else ledger.seats())
        removed_c += left
        failures.extend(left_failures)

        images = [i for i in api.images(filters=filters) if not _is_base_image(i.get("RepoTags") or ())]
        depths = _depths(api) if len(images) > 1 else {}
        pending = sorted(images, key=lambda i: depths.get(i["Id"], 0), reverse=True)
        while pending:
            blocked: list[tuple[Mapping, APIError]] = []
            for image in pending:
                try:
                    deleted += _remove_managed_image(api, image)
                    removed_i += 1
                except NotFound:
                    removed_i += 1  # pruned with a child removed just before
                except APIError as exc:
                    blocked.append((image, exc))
            if len(blocked) == len(pending):  # no progress: what is left is in use
                for image, error in blocked:
                    ref = ((image.get("RepoTags") or [None])[0] or image["Id"][7:19])
                    text = _api_text(error)
                    if error.status_code == 409:
                        kept.append(f"{ref}: {text}")
                    else:
                        failures.append(f"image {ref}: {text}")
                break
            pending = [image for image, _ in blocked]

        if seat:
            # A seat with images on the engine keeps its cache; the leftovers of a seat cleaned
            # earlier, kept then only because this seat's images descended from them, may go now.
            active = {(i.get("Labels") or {}).get(tl.SEAT) for i in api.images(filters=tl.seat_filter(None))}
            others = [s for s in ledger.seats() if s != seat]
            still_needed: set[str] = set().union(*(ledger.recorded(s) for s in others if s in active))
            done = [s for s in others if s not in active]
            pruned, ledger_failures = _remove_built_leftovers(api, [seat, *done], still_needed)
        else:  # every seat: what one seat's builds share with another's goes too
            pruned, ledger_failures = _remove_built_leftovers(api, ledger.seats(), set())
        deleted += pruned
        failures.extend(ledger_failures)

    label_args = " ".join(f"--filter label={v}" for v in filters["label"])
    cli = (
        f"docker rm -f $(docker ps -aq {label_args}); "
        f"docker rmi $(docker images -q {label_args})"
    )
    return CleanupResult(removed_c, removed_i, deleted, tuple(kept), tuple(failures), cli)
