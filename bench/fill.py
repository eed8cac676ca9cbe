"""Prints KEYS Redis SET commands as RESP, for `redis-cli --pipe`: distinct keys
k:0000000, k:0000001, ... (9 bytes each), every value VALUE_BYTES bytes of "v".
Used by bench/memory_keys.sh and bench/memory_catchup.sh.
Usage: python3 bench/fill.py KEYS VALUE_BYTES > fill.resp"""

import sys

keys, value_bytes = int(sys.argv[1]), int(sys.argv[2])
value = b"v" * value_bytes
out = sys.stdout.buffer
for i in range(keys):
    key = b"k:%07d" % i
    out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(value), value))
