#!/usr/bin/env bash
# Build the security-capable Cyclone DDS binding for the DDS backend (README "Keys (DDS Security)"): the Python
# binding cyclonedds 0.10.2 compiled against Debian's libddsc 0.10.2 (libddsc0debian: DDS Security plugins; the
# Cyclone version ROS 2 Jazzy uses), installed into DIR. Put DIR first on PYTHONPATH to use it; the plain install
# keeps the PyPI wheel (no security). Needs `apt-get install libddsc0debian cyclonedds-dev` and a C compiler.
#   rig_transport/build_secure_binding.sh DIR [PIP]     (PIP: default .venv/bin/pip)
set -euo pipefail
dir=$(realpath -m "$1")
pip=${2:-.venv/bin/pip}
libddsc=$(readlink -f /usr/lib/*/libddsc.so)
# The binding's setup.py wants one prefix with include/, bin/ and lib/libddsc.so; Debian's library lives in its
# multiarch directory, so a prefix of links. Only libddsc: the binding's idlc plug-in (idlpy) is not needed.
home="$dir/.cyclonedds-home"
mkdir -p "$home/lib"
ln -sfn /usr/include "$home/include"
ln -sfn /usr/bin "$home/bin"
ln -sf "$libddsc" "$home/lib/libddsc.so"
CYCLONEDDS_HOME="$home" "$pip" install --quiet --no-cache-dir --no-binary cyclonedds --no-deps --target "$dir" cyclonedds==0.10.2
