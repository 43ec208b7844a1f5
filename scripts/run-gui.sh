#!/usr/bin/env bash
# Start a GUI command: on the real display if there is one, else under Xvfb.
set -euo pipefail
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ] || [ "${QT_QPA_PLATFORM:-}" = offscreen ]; then
  exec "$@"
fi
echo "run-gui: no display found, starting the console under Xvfb (set QT_QPA_PLATFORM=offscreen to skip)" >&2
exec xvfb-run -a -s "-screen 0 1600x1000x24" "$@"
