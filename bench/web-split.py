# The web server path split by hop (docs/benchmarks.md, issue 18), on a node of `scripts/up.sh` with a warm server container:
#   python3 bench/web-split.py RUNNER_KEY CONTAINER_ID /tmp/modal-runner/run/web/CONTAINER_ID/web.sock RUNNER_PORT INGRESS_PATH
# RUNNER_KEY: Secrets__RunnerKey in .infra/apphost/install-keys.env; INGRESS_PATH e.g. /web/main--bench-noop-web-ping/ping
import http.client, socket, sys, time, statistics
key, cid, sock, runner_port, ingress_path = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
class UnixConn(http.client.HTTPConnection):
    def __init__(self, path): super().__init__("localhost"); self.path=path
    def connect(self):
        s=socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.connect(self.path); self.sock=s
def run(name, conn, path, headers, n=3000):
    for _ in range(300):
        conn.request("GET", path, headers=headers); conn.getresponse().read()
    t=[]
    for _ in range(n):
        a=time.perf_counter(); conn.request("GET", path, headers=headers); r=conn.getresponse(); r.read(); t.append((time.perf_counter()-a)*1000)
    t.sort(); print(f"{name}: p50 {t[n//2]:.3f} ms p99 {t[int(n*0.99)]:.3f} ms status {r.status}")
for rnd in range(2):
    run("container socket direct", UnixConn(sock), "/ping", {})
    run("runner forwarder", http.client.HTTPConnection("127.0.0.1", runner_port), "/ping", {"Modal-Container-Id": cid, "Modal-Runner-Key": key})
    run("ingress (path form)", http.client.HTTPConnection("127.0.0.1", 5080), ingress_path, {})
