import Crypto
import Foundation
import NIOSSH
import Testing

/// A running `gatehouse serve` under a storm of broken and hostile SSH sessions (issue 12, "Prove it").
@Suite("Storms")
struct StormTests {
    /// What the server may hold at the peak of the storm: a debug build idles near 60 MiB.
    static let residentBound = 512 * 1024 * 1024
    static let sessions = 10_000

    @Test("10,000 malformed or hostile SSH sessions: no crash, memory bounded, a clone during the storm succeeds")
    func malformedSessions() async throws {
        let root = try makeTemporaryDirectory("gatehouse-storm")
        defer { try? FileManager.default.removeItem(at: root) }
        let (cli, key) = try await CLI.withAlicesKey(in: root)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Storm/ssh_storm.py").path

        let status = try await withServer(binary: cli.binary, data: cli.data) { start in
            let git = Self.git(port: start.sshPort, key: key)
            let url = "ssh://git@127.0.0.1:\(start.sshPort)/acme/app.git"
            let seed = root.appendingPathComponent("seed")
            for step in [["init", "-q", "-b", "main", seed.path], ["-C", seed.path, "commit", "-q", "--allow-empty", "-m", "first"]] {
                #expect(try await runCommand("git", step).succeeded)
            }
            #expect(try await runCommand("git", ["-C", seed.path, "push", "-q", url, "main"], environment: git).succeeded)

            let storm = Task { try await runCommand("python3", [script, String(start.sshPort), key.privateKeyPath, String(Self.sessions)]) }
            let sampler = Task { () -> Int in
                var peak = 0
                while !Task.isCancelled {
                    peak = max(peak, Self.residentBytes(of: start.pid) ?? 0)
                    try? await Task.sleep(for: .milliseconds(200))
                }
                return peak
            }
            try await Task.sleep(for: .seconds(2))
            let clone = try await runCommand("git", ["clone", "-q", url, root.appendingPathComponent("during").path], environment: git)
            let result = try await storm.value
            sampler.cancel()
            let peak = await sampler.value

            #expect(clone.succeeded, "the clone during the storm: \(clone)")
            let report = try #require(
                result.stdout.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] },
                "the storm script: \(result)")
            #expect((report["sessions"] as? Int ?? 0) >= Self.sessions, "\(report)")
            #expect((report["unexpected"] as? [String])?.isEmpty == true, "\(report)")
            #expect(peak > 0 && peak < Self.residentBound, "peak resident memory \(peak / 1_048_576) MiB")
            #expect(kill(start.pid, 0) == 0, "the server is still running")
            let after = try await runCommand("git", ["ls-remote", url], environment: git)
            #expect(after.succeeded && after.stdout.contains("refs/heads/main"), "after the storm: \(after)")
        }
        #expect(status == 0, "the server stopped cleanly on SIGTERM")
    }

    @Test("300 idle connections, 10,000 failed authentications from one address and slow HTTP heads: ls-remote's p50 stays within 2×, the API answers")
    func floods() async throws {
        let root = try makeTemporaryDirectory("gatehouse-flood")
        defer { try? FileManager.default.removeItem(at: root) }
        let (cli, key) = try await CLI.withAlicesKey(in: root)
        let holder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Storm/flood_holder.py").path

        let status = try await withServer(binary: cli.binary, data: cli.data) { start in
            let git = Self.git(port: start.sshPort, key: key)
            let url = "ssh://git@127.0.0.1:\(start.sshPort)/acme/app.git"
            @Sendable func lsRemote() async throws -> (Duration, CommandResult) {
                var result: CommandResult?
                let elapsed = try await ContinuousClock().measure { result = try await runCommand("git", ["ls-remote", url], environment: git) }
                return (elapsed, result!)
            }
            var idle: [Duration] = []
            for _ in 0..<15 { idle.append(try await lsRemote().0) }

            let rejectedBefore = try await Self.rejectedAuthentications(httpPort: start.httpPort)
            let held = Task { try await runCommand("python3", [holder, String(start.sshPort), String(start.httpPort), "300", "50", "60"]) }
            let finished = Finished()
            let failures = Task {
                defer { Task { await finished.set() } }
                // A little over 10,000 offered: the server's own count of refusals is what is checked.
                return try await Self.failedAuthentications(10_500, port: start.sshPort, from: "127.0.0.12")
            }
            try await Task.sleep(for: .seconds(3))
            var flooded: [Duration] = []
            var refused: [CommandResult] = []
            // ls-remote again and again for as long as the failed authentications go on.
            while await !finished.value || flooded.count < 15 {
                let (elapsed, result) = try await lsRemote()
                flooded.append(elapsed)
                if !result.succeeded { refused.append(result) }
                if flooded.count >= 200 { break }
            }
            let api = try await runCommand(
                "curl", ["-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(start.httpPort)/2.0/hostkeys"])
            _ = try await failures.value
            let failed = try await Self.rejectedAuthentications(httpPort: start.httpPort) - rejectedBefore
            let holding = try await held.value

            #expect(failed >= 10_000, "authentications the server refused: \(failed)")
            #expect(refused.isEmpty, "ls-remote failed during the flood: \(refused.prefix(3))")
            #expect(api.stdout == "200", "the API during slow heads: \(api)")
            let opened = holding.stdout.split(separator: "\n").last.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Int] }
            #expect((opened?["idle"] ?? 0) >= 300 && (opened?["slow"] ?? 0) >= 50, "connections the holder opened: \(holding)")
            let (before, during) = (Self.median(idle), Self.median(flooded))
            #expect(during <= before * 2, "ls-remote p50 \(before) idle, \(during) under the flood (\(flooded.count) runs)")
        }
        #expect(status == 0)
    }

    @Test("channels that never start git hold at most their window each (ssh.channel-window-kib), and the server's memory stays bounded")
    func channelsBeforeExec() async throws {
        let root = try makeTemporaryDirectory("gatehouse-window")
        defer { try? FileManager.default.removeItem(at: root) }
        let (cli, key) = try await CLI.withAlicesKey(in: root)
        let status = try await withServer(binary: cli.binary, data: cli.data) { start in
            let before = try #require(Self.residentBytes(of: start.pid))
            // Three connections with ten channels each try to send 8 MiB before any exec; paramiko sends only what
            // the server's window allows. The server's memory is read while they are all open.
            let result = try await Probe.run(
                port: start.sshPort,
                """
                import paramiko
                key = paramiko.Ed25519Key.from_private_key_file(sys.argv[2])
                accepted = []
                transports = []
                for _ in range(3):
                    t = paramiko.Transport(connect("127.0.0.1")); t.start_client(); t.auth_publickey("git", key); transports.append(t)
                    for _ in range(10):
                        channel = t.open_session(timeout=10); channel.settimeout(0.3); sent = 0
                        try:
                            while sent < 8 * 1048576: sent += channel.send(b"x" * 65536)
                        except socket.timeout: pass
                        accepted.append(sent)
                time.sleep(2)
                rss = [int(line.split()[1]) * 1024 for line in open("/proc/%s/status" % sys.argv[3]) if line.startswith("VmRSS:")][0]
                print(json.dumps({"accepted": accepted, "rss": rss}))
                """, arguments: [key.privateKeyPath, String(start.pid)])
            let during = result["rss"] as? Int ?? Int.max
            let accepted = result["accepted"] as? [Int] ?? []
            #expect(accepted.count == 30, "\(result)")
            #expect(accepted.allSatisfy { $0 <= 2 * 1_048_576 + 65_536 }, "bytes each channel took before exec: \(accepted)")
            #expect(during - before < 150 * 1_048_576, "resident memory grew by \((during - before) / 1_048_576) MiB")
        }
        #expect(status == 0)
    }

    /// Connections from `source` that each offer six unknown keys (refused six times, then closed at
    /// `ssh.max-auth-tries`), four at a time, until `count` keys were offered; returns how many.
    static func failedAuthentications(_ count: Int, port: Int, from source: String) async throws -> Int {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var refusals = 0
                    while refusals < count / 4 {
                        let offers = (0..<6).map { _ in
                            NIOSSHUserAuthenticationOffer.Offer.privateKey(.init(privateKey: NIOSSHPrivateKey(ed25519Key: Curve25519.Signing.PrivateKey())))
                        }
                        // Closed after the sixth refusal, or refused outright past the per-address cap: both are refusals.
                        let accepted = (try? await RawSSHClient.authenticates(port: port, offers: offers, from: source)) ?? false
                        guard !accepted else { throw TestSetupError("an unknown key was accepted") }
                        refusals += 6
                    }
                    return refusals
                }
            }
            return try await group.reduce(0, +)
        }
    }

    /// The server's count of refused authentications, from `/metrics`.
    static func rejectedAuthentications(httpPort: Int) async throws -> Int {
        let metrics = try await runCommand("curl", ["-s", "http://127.0.0.1:\(httpPort)/metrics"]).stdout
        return metrics.split(separator: "\n").filter { $0.hasPrefix("gatehouse_ssh_auth_total{") && $0.contains("result=\"rejected\"") }
            .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0) { $0 + Int($1) }
    }

    static func median(_ values: [Duration]) -> Duration {
        values.sorted()[values.count / 2]
    }

    actor Finished {
        var value = false
        func set() { value = true }
    }

    /// git's environment for ssh with `key` against the server on `port`.
    static func git(port: Int, key: KeyPair) -> [String: String] {
        let ssh = [
            "ssh", "-F", "/dev/null", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes",
            "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-i", key.privateKeyPath, "-p", String(port),
        ]
        return ["GIT_SSH_COMMAND": ssh.joined(separator: " "), "GIT_TERMINAL_PROMPT": "0"]
    }

    /// VmRSS of a process, from /proc.
    static func residentBytes(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kib * 1024
    }
}
