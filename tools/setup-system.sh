#!/bin/sh
# Install the system programs broadcast needs, if any are missing (Debian/Ubuntu, apt-get).
# Runs as root directly, or through sudo when that works without a password prompt.
# With --tests, also what the test suite needs (a PulseAudio server and an Icecast server, both
# started privately).
set -eu
PYTHON="${PYTHON:-python3}"

need=""
check() { # check COMMAND PACKAGE
    if ! command -v "$1" >/dev/null 2>&1; then
        case " $need " in *" $2 "*) ;; *) need="$need $2" ;; esac
    fi
}
check ffmpeg ffmpeg
check ffprobe ffmpeg
check espeak-ng espeak-ng
if [ "${1:-}" = "--tests" ]; then
    check pulseaudio pulseaudio
    check icecast2 icecast2
fi
check pactl pulseaudio-utils
check pacat pulseaudio-utils
check parec pulseaudio-utils
check aplay alsa-utils
if ! "$PYTHON" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    need="$need python3-venv"
fi

if [ -z "$need" ]; then
    exit 0
fi

echo "Installing system packages:$need"
if [ "$(id -u)" -eq 0 ]; then
    run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    # sudo drops the environment; icecast2 asks debconf questions unless told not to.
    run="sudo -n env DEBIAN_FRONTEND=noninteractive"
else
    echo "These system packages are missing:$need" >&2
    echo "Install them as root:  apt-get install -y$need" >&2
    echo "(or run this again as root, or as a user who can use sudo)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "apt-get was not found. Install these packages with your system's tools:$need" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$run apt-get update -q >/dev/null || $run apt-get update -q
# shellcheck disable=SC2086
$run apt-get install -y -q --no-install-recommends $need
