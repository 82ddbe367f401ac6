"""Holds connections open against a Gatehouse server on loopback for SECONDS (issue 12, floods).

Usage: flood_holder.py SSH_PORT HTTP_PORT IDLE SLOW SECONDS

IDLE TCP connections to the SSH port that never send a byte, from 127.0.0.2 to 127.0.0.11 (the server closes them
after its login grace, or at once past its caps: each closed one is opened again), and SLOW HTTP connections that send
one byte of a request head every second (slowloris). Prints one JSON object: the connections opened of each kind.
"""

import json
import socket
import sys
import threading
import time

SSH_PORT, HTTP_PORT, IDLE, SLOW, SECONDS = (int(a) for a in sys.argv[1:6])
deadline = time.time() + SECONDS
opened = {"idle": 0, "slow": 0}
lock = threading.Lock()


def hold_idle(index):
    while time.time() < deadline:
        try:
            s = socket.socket()
            s.bind(("127.0.0.%d" % (2 + index % 10), 0))
            s.connect(("127.0.0.1", SSH_PORT))
            with lock:
                opened["idle"] += 1
            s.settimeout(max(0.1, deadline - time.time()))
            while s.recv(4096):
                pass  # the banner; then nothing until the server closes
        except OSError:
            pass
        finally:
            s.close()
        time.sleep(0.2)  # past a cap the server closes at once: open again, but not in a tight loop


def hold_slow(index):
    head = b"GET /2.0/hostkeys HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + b"a" * 10000
    while time.time() < deadline:
        try:
            s = socket.socket()
            s.connect(("127.0.0.1", HTTP_PORT))
            with lock:
                opened["slow"] += 1
            for byte in head:
                if time.time() >= deadline:
                    break
                s.send(bytes([byte]))
                time.sleep(1)
        except OSError:
            time.sleep(0.2)
        finally:
            s.close()


threads = [threading.Thread(target=hold_idle, args=(n,), daemon=True) for n in range(IDLE)]
threads += [threading.Thread(target=hold_slow, args=(n,), daemon=True) for n in range(SLOW)]
for thread in threads:
    thread.start()
time.sleep(max(0, deadline - time.time()))
print(json.dumps(opened))
