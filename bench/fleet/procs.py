"""What the fleet and gateway benchmarks share: free ports, a nats-server
with JetStream, stopping workers the way a deployment does (SIGTERM, then
wait), FFmpeg for their inputs, and writing the result table."""

import signal
import socket
import subprocess
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15):
    end = time.time() + timeout
    while time.time() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def stop(procs):
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait()


def start_server(args, port):
    """Starts a server process (its output discarded) and waits until it listens on `port`."""
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port)
    return server


def nats_server(store):
    """A nats-server with JetStream storing in `store`, on a free port: (process, URL)."""
    port = free_port()
    server = start_server(["nats-server", "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store], port)
    return server, f"nats://127.0.0.1:{port}"


def ffmpeg(*args):
    """Runs the ffmpeg CLI quietly, overwriting its output, never reading stdin."""
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                   check=True, stdin=subprocess.DEVNULL)


def report(table, out, header=""):
    """Prints a result table and, when `out` is given, writes it there after `header`."""
    print()
    print(table)
    if out:
        with open(out, "w") as f:
            f.write(f"{header}{table}\n")
