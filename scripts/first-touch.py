#!/usr/bin/env python3
"""How long this machine takes to hand a process fresh memory.

Maps GIB gibibytes (default 4) of anonymous memory and writes one byte per
4 KiB page, timing each 256 MiB. On a bare machine every chunk costs about
the same. In a virtual machine whose host takes back the memory the guest
frees (virtio-balloon free page reporting, as on the machines the load
benchmark runs on), the chunks the host has to back again cost several
times more: run it before a load run to see what first touches cost, or
twice in a row to see the second run reuse the pages the first just freed.

    python3 scripts/first-touch.py [GIB]

Prints the milliseconds of CPU time per 256 MiB, in the order touched.
"""

import mmap
import sys
import time

CHUNK = 256 << 20
PAGE = 4096


def main() -> int:
    try:
        gib = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    except ValueError:
        print(f"usage: {sys.argv[0]} [GIB]: {sys.argv[1]!r} is not a whole number", file=sys.stderr)
        return 2
    if not 1 <= gib <= 64:
        print(f"usage: {sys.argv[0]} [GIB]: between 1 and 64", file=sys.stderr)
        return 2
    memory = mmap.mmap(-1, gib << 30, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    took = []
    for start in range(0, gib << 30, CHUNK):
        before = time.thread_time()
        for offset in range(start, start + CHUNK, PAGE):
            memory[offset] = 1
        took.append(time.thread_time() - before)
    memory.close()
    print(" ".join(f"{t * 1000:.0f}" for t in took), "ms of CPU per 256 MiB, in order")
    fastest = min(took)
    slow = sum(1 for t in took if t > 2 * fastest)
    print(f"{slow} of {len(took)} chunks took more than twice the fastest ({fastest * 1000:.0f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
