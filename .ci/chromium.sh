#!/usr/bin/env bash
# Sourced by .ci/test: `ensure_chromium` makes Debian's headless Chromium available for the
# report's browser test (installs the package if missing; needs root) and exports
# THEMER_CHROMIUM with its path.

ensure_chromium() {
  local found
  found="$(command -v chromium || command -v chromium-browser || true)"
  if [ -z "$found" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "no chromium and not root to install it" >&2; return 1; }
    echo "installing Chromium (Debian package chromium)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || return 1
    found="$(command -v chromium)" || return 1
  fi
  export THEMER_CHROMIUM="$found"
}
