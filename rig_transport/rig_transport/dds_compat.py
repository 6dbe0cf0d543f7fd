"""What differs between the two cyclonedds Python bindings the DDS backend runs on.

The PyPI wheel (cyclonedds 11, its own libddsc, no DDS Security) is the plain install; cyclonedds 0.10, built
against Debian's libddsc 0.10.2 with its security plugins, is the keyed one (see `rig_transport.security`).
"""

from __future__ import annotations

import ctypes

from cyclonedds.internal import dds_c_t
from cyclonedds.pub import DataWriter


def matched_reader_count(writer: DataWriter) -> int:
    """How many readers a writer has matched now (its publication-matched status)."""
    if hasattr(writer, "get_publication_matched_status"):  # cyclonedds 11
        return int(writer.get_publication_matched_status().current_count)
    # cyclonedds 0.10 does not wrap dds_get_publication_matched_status: call libddsc, which has it.
    status = dds_c_t.publication_matched_status()
    ret = writer._dll_handle.dds_get_publication_matched_status(writer._ref, ctypes.byref(status))
    if ret != 0:
        raise RuntimeError(f"dds_get_publication_matched_status failed ({ret})")
    return int(status.current_count)
