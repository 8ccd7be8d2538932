#!/usr/bin/env bash
# Installs the system packages the integration tests need (etcd; chromium for the browser test).
# Idempotent: does nothing when everything is already installed. Fails loudly when apt fails.
set -euo pipefail

packages=()
command -v etcd >/dev/null 2>&1 || packages+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || packages+=(etcd-client)
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || packages+=(chromium-driver)

if [ "${#packages[@]}" -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${packages[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then sudo=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update
"${sudo[@]}" apt-get install -y "${packages[@]}"

for tool in etcd etcdctl chromium chromedriver; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-deps: $tool still missing after apt-get install" >&2; exit 1; }
done
