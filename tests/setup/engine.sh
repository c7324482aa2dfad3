#!/usr/bin/env bash
# Install (as root) and start the Docker engine the tests run on: dockerd 26.1.5, docker CLI 26,
# buildx 0.13.1 and containerd 1.7 from Debian 13's packages. On Debian 12 they come through a
# trixie source pinned low, so nothing else on the machine moves; on Debian 13 they are native.
# An older engine found running is stopped (its images survive) and the new one started.
# Also installs what the tests drive besides the engine: busybox-static (offline base images),
# tmux (the real terminal) and chromium (browser seats).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

WANT_ENGINE=26.1.5
say() { printf '  engine setup: %s\n' "$*"; }

if [ "$(id -u)" != 0 ]; then
  echo "engine setup needs root (apt-get, dockerd). Install Docker 26 or newer and start it, then run the tests again." >&2
  exit 2
fi

# Versions without Debian's suffix (26.1.5+dfsg1 -> 26.1.5).
engine_version() { timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null | sed 's/[+~].*//' || true; }
dockerd_version() { command -v dockerd >/dev/null 2>&1 && dockerd --version | sed -E 's/^Docker version ([^,+~]+).*/\1/' || true; }
have_buildx() { [ -x /usr/libexec/docker/cli-plugins/docker-buildx ] || command -v docker-buildx >/dev/null 2>&1; }

. /etc/os-release
need_pkgs=()
if [ "$(dockerd_version)" != "$WANT_ENGINE" ] || ! have_buildx; then
  need_pkgs+=(docker.io docker-cli docker-buildx containerd)
fi
extra=()
[ -x /bin/busybox ] || extra+=(busybox-static)
command -v tmux >/dev/null 2>&1 || extra+=(tmux)
command -v chromium >/dev/null 2>&1 || extra+=(chromium)

if [ ${#need_pkgs[@]} -gt 0 ] || [ ${#extra[@]} -gt 0 ]; then
  target=()
  if [ ${#need_pkgs[@]} -gt 0 ] && [ "${VERSION_CODENAME:-}" = bookworm ]; then
    say "adding Debian 13 (trixie) as a source pinned at priority 100, for the engine only"
    cat > /etc/apt/sources.list.d/trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/trixie-pin
    target=(-t trixie)
  fi
  apt-get update -qq
  if [ ${#need_pkgs[@]} -gt 0 ]; then
    say "installing ${need_pkgs[*]}"
    # The package's own service start fails without an init system; the engine is started below.
    apt-get install -y -qq "${target[@]}" "${need_pkgs[@]}" >/dev/null || true
    [ "$(dockerd_version)" = "$WANT_ENGINE" ] || { echo "dockerd $WANT_ENGINE did not install (have: $(dockerd_version))" >&2; exit 1; }
  fi
  if [ ${#extra[@]} -gt 0 ]; then
    say "installing ${extra[*]}"
    apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null
  fi
fi

running="$(engine_version)"
if [ -n "$running" ] && [ "$running" != "$WANT_ENGINE" ] && [ -f /var/run/docker.pid ]; then
  say "stopping the running engine $running"
  pid="$(cat /var/run/docker.pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  running=""
fi
if [ -z "$running" ]; then
  say "starting dockerd (log: /var/log/dockerd.log)"
  nohup dockerd >>/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    [ -n "$(engine_version)" ] && break
    sleep 1
  done
fi
if [ -z "$(engine_version)" ]; then
  echo "the Docker engine did not start:" >&2
  tail -n 40 /var/log/dockerd.log >&2 || true
  exit 1
fi
docker version --format 'engine {{.Server.Version}} (API {{.Server.APIVersion}}), CLI {{.Client.Version}}'
store="$(docker info --format '{{range .DriverStatus}}{{if eq (index . 0) "driver-type"}}{{index . 1}}{{end}}{{end}}')"
printf 'storage driver %s, image store %s\n' "$(docker info --format '{{.Driver}}')" \
  "$([ "$store" = io.containerd.snapshotter.v1 ] && echo 'containerd' || echo 'classic (graph driver)')"
docker buildx version 2>/dev/null || say "buildx: not found"
