"""Malformed and hostile SSH sessions against a Gatehouse server on loopback (issue 12, "Prove it").

Usage: ssh_storm.py PORT KEY COUNT

Most sessions are raw sockets that break the protocol before or during the key exchange (garbage banners,
truncated packets, wrong lengths, unknown message types, broken KEXINIT). The rest authenticate with KEY through
paramiko and then misbehave: channels before authentication, huge window adjustments, exec with odd bytes, more
channels than allowed, data before exec, requests the server does not serve. Sessions come from 127.0.0.2 to
127.0.0.33, so that the test's legitimate client (127.0.0.1) is never behind them. Prints one JSON object: how many
sessions of each kind ran, and the unexpected client-side errors (there should be none).
"""

import json
import os
import random
import socket
import struct
import sys
import threading
import time

import paramiko

PORT = int(sys.argv[1])
KEY = paramiko.Ed25519Key.from_private_key_file(sys.argv[2])
COUNT = int(sys.argv[3])
BANNER = b"SSH-2.0-storm_1.0\r\n"

counts = {}
unexpected = []
lock = threading.Lock()


def source(index):
    return "127.0.0.%d" % (2 + index % 32)


def connect(index):
    s = socket.socket()
    s.settimeout(10)
    s.bind((source(index), 0))
    s.connect(("127.0.0.1", PORT))
    return s


def packet(payload, pad=8):
    padding = pad - (len(payload) + 5) % pad
    if padding < 4:
        padding += pad
    return struct.pack(">IB", len(payload) + padding + 1, padding) + payload + os.urandom(padding)


def name_list(text):
    return struct.pack(">I", len(text)) + text


def drain(s, limit=4096):
    try:
        return s.recv(limit)
    except OSError:
        return b""


def raw(index, kind):
    rng = random.Random(index)
    s = connect(index)
    try:
        drain(s, 256)  # the server's banner
        if kind == "garbage":
            s.sendall(os.urandom(rng.randint(1, 2048)))
        elif kind == "long-banner":
            s.sendall(b"SSH-2.0-" + b"A" * rng.randint(300, 70000))
        elif kind == "lines-before-banner":
            s.sendall(b"hello\r\n" * rng.randint(1, 2000) + BANNER)
        elif kind == "truncated":
            s.sendall(BANNER + struct.pack(">I", rng.randint(16, 35000)) + os.urandom(rng.randint(0, 15)))
        elif kind == "wrong-length":
            s.sendall(BANNER + struct.pack(">I", rng.choice([0, 1, 3, 0x7FFFFFFF, 0xFFFFFFFF, 262144])) + os.urandom(64))
        elif kind == "unknown-message":
            s.sendall(BANNER + packet(bytes([rng.choice([0, 3, 99, 128, 200, 255])]) + os.urandom(rng.randint(0, 64))))
        elif kind == "bad-kexinit":
            lists = b"".join(name_list(os.urandom(rng.randint(0, 40))) for _ in range(10))
            s.sendall(BANNER + packet(b"\x14" + os.urandom(16) + lists + b"\x00" + b"\x00\x00\x00\x00"))
        elif kind == "kexinit-then-garbage":
            algorithms = [b"curve25519-sha256", b"ssh-ed25519", b"aes128-ctr", b"aes128-ctr", b"hmac-sha2-256", b"hmac-sha2-256", b"none", b"none", b"", b""]
            lists = b"".join(name_list(a) for a in algorithms)
            s.sendall(BANNER + packet(b"\x14" + os.urandom(16) + lists + b"\x00\x00\x00\x00\x00") + packet(b"\x1e" + os.urandom(rng.randint(0, 100))))
        # Bytes that may still become a banner or a packet are rightly waited for (until the login grace): those
        # hang up at once. A broken packet makes the server close: those read until it does.
        if kind in ("unknown-message", "bad-kexinit", "kexinit-then-garbage"):
            s.settimeout(3)
            drain(s)
    finally:
        s.close()


def authenticated(index):
    t = paramiko.Transport(connect(index))
    t.banner_timeout = 10
    t.start_client(timeout=10)
    t.auth_publickey("git", KEY)
    return t


def hostile(index, kind):
    if kind == "channel-before-auth":
        t = paramiko.Transport(connect(index))
        t.start_client(timeout=10)
        try:
            t.open_session(timeout=5)
        except Exception:
            pass
        t.close()
        return
    t = authenticated(index)
    try:
        if kind == "huge-window":
            channel = t.open_session(timeout=10)
            for _ in range(3):
                m = paramiko.Message()
                m.add_byte(paramiko.common.cMSG_CHANNEL_WINDOW_ADJUST)
                m.add_int(channel.remote_chanid)
                m.add_int(0xFFFFFFFF)
                t._send_user_message(m)
            channel.exec_command("git-upload-pack 'acme/app.git'")
            channel.recv(65536)
        elif kind == "odd-exec":
            channel = t.open_session(timeout=10)
            odd = random.Random(index).choice(
                [b"git-upload-pack '\x00\xff\xfe'", b"\xff" * 5000, b"git-upload-pack 'acme/app.git'\n;id", b"", b"git-upload-pack '" + b"a/" * 4000 + b"'"])
            channel.exec_command(odd)
            channel.recv(4096)
        elif kind == "many-channels":
            for _ in range(25):
                try:
                    t.open_session(timeout=5)
                except paramiko.ChannelException:
                    pass
        elif kind == "data-before-exec":
            channel = t.open_session(timeout=10)
            channel.settimeout(5)
            try:
                channel.sendall(b"x" * 200000)
            except Exception:
                pass
        elif kind == "unserved-requests":
            channel = t.open_session(timeout=10)
            for request in (lambda: channel.get_pty(), lambda: channel.invoke_subsystem("sftp"), lambda: channel.request_x11(), lambda: channel.set_environment_variable("LD_PRELOAD", "/x.so")):
                try:
                    request()
                except Exception:
                    pass
            try:
                t.request_port_forward("127.0.0.1", 0)
            except Exception:
                pass
            try:
                t.open_channel("direct-tcpip", ("127.0.0.1", 22), ("127.0.0.1", 1), timeout=5)
            except Exception:
                pass
    finally:
        t.close()


RAW = ["garbage", "long-banner", "lines-before-banner", "truncated", "wrong-length", "unknown-message", "bad-kexinit", "kexinit-then-garbage"]
HOSTILE = ["channel-before-auth", "huge-window", "odd-exec", "many-channels", "data-before-exec", "unserved-requests"]


def kind_of(index):
    # One session in 40 goes through paramiko (they cost a key exchange and a signature each).
    return HOSTILE[(index // 40) % len(HOSTILE)] if index % 40 == 0 else RAW[index % len(RAW)]


def worker(indices):
    for index in indices:
        kind = kind_of(index)
        try:
            (hostile if kind in HOSTILE else raw)(index, kind)
        except (OSError, EOFError, paramiko.SSHException) as error:
            # The server closing on a broken session is the expected outcome, not a failure.
            if kind in HOSTILE and not isinstance(error, (EOFError, ConnectionResetError, paramiko.SSHException, socket.timeout)):
                with lock:
                    unexpected.append("%s: %r" % (kind, error))
        except Exception as error:
            with lock:
                unexpected.append("%s: %r" % (kind, error))
        with lock:
            counts[kind] = counts.get(kind, 0) + 1


threads = [threading.Thread(target=worker, args=(range(n, COUNT, 8),)) for n in range(8)]
started = time.time()
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"sessions": sum(counts.values()), "kinds": counts, "unexpected": unexpected[:20], "seconds": time.time() - started}))
