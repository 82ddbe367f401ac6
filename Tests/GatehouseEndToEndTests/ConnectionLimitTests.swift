import Foundation
import GatehouseCore
import GatehouseSSH
import Logging
import Testing

/// Issue 12, findings 1, 2 and 5: what one client can make the built-in SSH server spend.
@Suite("Connection and process limits of the built-in SSH server")
struct ConnectionLimitTests {
    @Test(
        "a connection is closed after ssh.max-auth-tries refused keys (6)",
        arguments: [(unknownKeysFirst: 5, signsIn: true), (unknownKeysFirst: 6, signsIn: false)])
    func maxAuthTries(unknownKeysFirst: Int, signsIn: Bool) async throws {
        try await TestGatehouse.with { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            var strangers: [KeyPair] = []
            for _ in 0..<unknownKeysFirst { strangers.append(try await gatehouse.key()) }
            let result = try await gatehouse.advertisement("acme/app", keys: strangers + [ownerKey])
            #expect(result.succeeded == signsIn, "\(result)")
            #expect(result.stdout.contains("refs/heads/main") == signsIn)
        }
    }

    @Test("a connection opens at most ssh.max-sessions session channels at once; a closed one frees its place")
    func maxSessions() async throws {
        var limits = SSHLimits()
        limits.maxSessions = 2
        try await TestGatehouse.with(limits: limits) { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            // OpenSSH's multiplexing client opens a connection of its own when the master's is full, so the
            // channels are opened with paramiko, which does exactly what it is told.
            let result = try await Probe.run(
                port: gatehouse.port,
                """
                import paramiko
                t = paramiko.Transport(connect("127.0.0.1")); t.start_client()
                t.auth_publickey("git", paramiko.Ed25519Key.from_private_key_file(sys.argv[2]))
                def attempt():
                    try: return t.open_session(timeout=10)
                    except paramiko.ChannelException: return None
                first, second, third = attempt(), attempt(), attempt()
                first.close()
                for _ in range(100):
                    fourth = attempt()
                    if fourth is not None: break
                    time.sleep(0.1)
                print(json.dumps({"opened": [c is not None for c in (first, second, third, fourth)]}))
                """, arguments: [ownerKey.privateKeyPath])
            #expect(result["opened"] as? [Bool] == [true, true, false, true], "\(result)")
        }
    }

    @Test("a connection that does not authenticate within ssh.login-grace-seconds is closed")
    func loginGrace() async throws {
        var limits = SSHLimits()
        limits.loginGrace = .seconds(1)
        try await TestGatehouse.with(limits: limits) { gatehouse in
            let result = try await Probe.run(
                port: gatehouse.port,
                """
                s = connect("127.0.0.1"); banner = s.recv(100); start = time.time(); s.settimeout(15)
                closed = s.recv(100) == b""; print(json.dumps({"banner": banner.decode(errors="replace"), "closed": closed, "after": time.time() - start}))
                """)
            #expect((result["banner"] as? String ?? "").hasPrefix("SSH-2.0-"), "\(result)")
            #expect(result["closed"] as? Bool == true, "\(result)")
            #expect((result["after"] as? Double ?? 99) < 10, "\(result)")
        }
    }

    @Test("past ssh.max-unauthenticated-per-address, that address is closed at once; others still sign in")
    func unauthenticatedPerAddress() async throws {
        var limits = SSHLimits()
        limits.maxUnauthenticatedPerAddress = 3
        try await TestGatehouse.with(limits: limits) { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let line = gatehouse.sshCommand([ownerKey]) + ["git@127.0.0.1", "git-upload-pack 'acme/app.git'"]
            let result = try await Probe.run(
                port: gatehouse.port,
                """
                held = [connect("127.0.0.2") for _ in range(3)]
                for s in held: s.recv(100)
                extra = connect("127.0.0.2"); extra.settimeout(10)
                refused = extra.recv(100) == b""
                legit = subprocess.run(sys.argv[2:], input=b"0000", capture_output=True, timeout=30)
                print(json.dumps({"refused": refused, "legit": legit.returncode, "refs": b"refs/heads/main" in legit.stdout}))
                """, arguments: line)
            #expect(result["refused"] as? Bool == true, "\(result)")
            #expect(result["legit"] as? Int == 0, "\(result)")
            #expect(result["refs"] as? Bool == true, "\(result)")
        }
    }

    @Test("at ssh.max-unauthenticated, the busiest address loses its oldest waiting connection to a newcomer from elsewhere")
    func unauthenticatedTotal() async throws {
        var limits = SSHLimits()
        limits.maxUnauthenticated = 6
        limits.maxUnauthenticatedPerAddress = 6
        try await TestGatehouse.with(limits: limits) { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let line = gatehouse.sshCommand([ownerKey]) + ["git@127.0.0.1", "git-upload-pack 'acme/app.git'"]
            let result = try await Probe.run(
                port: gatehouse.port,
                """
                def closed(s):
                    s.settimeout(10)
                    try: return s.recv(100) == b""
                    except socket.timeout: return False
                # One after the other, each greeted before the next: the server's event loops admit them in this order.
                flood = []
                for _ in range(5):
                    flood.append(connect("127.0.0.2")); flood[-1].recv(100)
                other = connect("127.0.0.3"); other.recv(100)
                # The server is full. One more from the flooding address is refused (under its own limit of 6): it is the busiest.
                refused = closed(connect("127.0.0.2"))
                legit = subprocess.run(sys.argv[2:], input=b"0000", capture_output=True, timeout=30)
                for s in (flood[0], flood[4], other): s.settimeout(0.5)
                def still_open(s):
                    try: return s.recv(100) != b""
                    except socket.timeout: return True
                print(json.dumps({"refused": refused, "legit": legit.returncode, "refs": b"refs/heads/main" in legit.stdout,
                                  "oldestEvicted": not still_open(flood[0]), "newestKept": still_open(flood[4]), "otherKept": still_open(other)}))
                """, arguments: line)
            #expect(result["refused"] as? Bool == true, "\(result)")
            #expect(result["legit"] as? Int == 0 && result["refs"] as? Bool == true, "\(result)")
            #expect(result["oldestEvicted"] as? Bool == true, "\(result)")
            #expect(result["newestKept"] as? Bool == true && result["otherKept"] as? Bool == true, "\(result)")
        }
    }

    @Test(
        "a silent connection is closed after ssh.idle-timeout-seconds, and every connection after ssh.max-connection-lifetime-seconds",
        arguments: [
            (idle: 3, lifetime: 86_400, keepalive: false, stillOpen: false),
            (idle: 3, lifetime: 86_400, keepalive: true, stillOpen: true),
            (idle: 60, lifetime: 3, keepalive: true, stillOpen: false),
        ])
    func idleAndLifetime(idle: Int, lifetime: Int, keepalive: Bool, stillOpen: Bool) async throws {
        var limits = SSHLimits()
        limits.idleTimeout = .seconds(idle)
        limits.maxConnectionLifetime = .seconds(lifetime)
        try await TestGatehouse.with(limits: limits) { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let options = keepalive ? ["-o", "ServerAliveInterval=1"] : ["-o", "ServerAliveInterval=0"]
            // The master has authenticated when it starts (ssh -f forks only then); on a busy machine asking it
            // at once could already be too late for a 3-second limit.
            try await gatehouse.withControlMaster(ownerKey, options: options) { socket in
                try await Task.sleep(for: .seconds(7))
                #expect(try await gatehouse.controlMaster(socket, "check").succeeded == stillOpen)
            }
        }
    }

    @Test("one key runs at most git.max-processes-per-key git processes; past the queue wait it is refused, other keys are not")
    func gitProcessesPerKey() async throws {
        try await TestGatehouse.with(gitProcesses: .init(perNode: 64, perKey: 1, queueWait: .seconds(1))) { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            let holding = try await gatehouse.heldUploadPack("acme/app", key: deployKey, seconds: 20)
            let second = try await gatehouse.advertisement("acme/app", key: deployKey)
            #expect(!second.succeeded)
            #expect(second.stderr.contains("This key is already running 1 git processes"), "\(second)")
            let otherKey = try await gatehouse.advertisement("acme/app", key: ownerKey)
            #expect(otherKey.succeeded, "\(otherKey)")
            #expect(try await holding.value.succeeded)
            let afterwards = try await gatehouse.advertisement("acme/app", key: deployKey)
            #expect(afterwards.succeeded, "the slot is free again: \(afterwards)")
        }
    }

    @Test(
        "a request's head must arrive whole within http.idle-timeout-seconds: a client that stops in the middle of its headers, or sends them a byte at a time, is closed"
    )
    func httpHeadDeadline() async throws {
        try await TestGatehouse.with { gatehouse in
            var logger = Logger(label: "gatehouse-test")
            logger.logLevel = .warning
            let api = try await TestAPI.start(
                try gatehouse.data.apiServer(ssh: try gatehouse.data.sshEndpoint(port: gatehouse.port, user: "git"), idleTimeout: .seconds(2)),
                logger: logger)
            let result = try await Probe.run(
                port: api.port,
                """
                whole = connect("127.0.0.1"); whole.sendall(b"GET /2.0/hostkeys HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"); whole.settimeout(10)
                answered = whole.recv(12).startswith(b"HTTP/1.1 200")
                silent = connect("127.0.0.1"); silent.sendall(b"GET /2.0/hostkeys HTTP/1.1\\r\\nHost: x\\r\\n"); silent.settimeout(20)
                dribbling = connect("127.0.0.1"); dribbling.sendall(b"GET /2.0/hostkeys HTTP/1.1\\r\\nX-Slow: "); dribbling.settimeout(0.25)
                start = time.time(); dribbled = 0; dribbling_closed_after = None
                while time.time() - start < 20:
                    try:
                        dribbling.sendall(b"a"); dribbled += 1
                        if dribbling.recv(100) == b"": dribbling_closed_after = time.time() - start; break
                    except socket.timeout: pass
                    except OSError: dribbling_closed_after = time.time() - start; break
                silent_closed = silent.recv(100) == b""
                print(json.dumps({"answered": answered, "silentClosed": silent_closed, "dribbled": dribbled, "dribblingClosedAfter": dribbling_closed_after}))
                """)
            await api.stop()
            #expect(result["answered"] as? Bool == true, "a whole request is answered: \(result)")
            #expect(result["silentClosed"] as? Bool == true, "\(result)")
            #expect((result["dribbled"] as? Int ?? 0) >= 4, "the client kept sending bytes of its head: \(result)")
            let closedAfter = result["dribblingClosedAfter"] as? Double
            #expect(closedAfter != nil && closedAfter! < 10, "sending a head slowly does not extend the deadline: \(result)")
        }
    }

    @Test("a session whose git makes no progress for git.idle-timeout-seconds is ended with a message")
    func gitIdleTimeout() async throws {
        try await TestGatehouse.with(gitIdleTimeout: .seconds(2)) { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            // Not waiting to see git start: with a 2-second limit it may be gone before a busy machine looks.
            let started = ContinuousClock.now
            let session = try await gatehouse.heldUploadPack("acme/app", key: ownerKey, seconds: 60, expectGit: false)
            let result = try await session.value
            #expect(!result.succeeded)
            #expect(result.stderr.contains("git made no progress for 2 seconds"), "\(result)")
            // Well before the client would have ended it (60 s), even on a busy machine.
            #expect(ContinuousClock.now - started < .seconds(45))
            #expect(try await gatehouse.gitProcesses("acme/app") == 0)
        }
    }
}

/// Raw TCP clients for what no SSH client does on purpose: hold sockets, stay silent, come from another loopback
/// address. A Python script whose last line of output is JSON; `connect(host)` opens a socket to the server from
/// that source address.
enum Probe {
    static func run(port: Int, _ body: String, arguments: [String] = []) async throws -> [String: Any] {
        let script = """
            import json, socket, subprocess, sys, time
            def connect(source):
                s = socket.socket(); s.bind((source, 0)); s.connect(("127.0.0.1", int(sys.argv[1]))); return s
            \(body)
            """
        let result = try await runCommand("python3", ["-c", script, String(port)] + arguments)
        guard result.succeeded, let last = result.stdout.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        else { throw TestSetupError("the probe failed: \(result)") }
        return object
    }
}
