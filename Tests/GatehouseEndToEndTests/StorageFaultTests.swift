import Foundation
import Testing

/// A full disk and a locked database under a running `gatehouse serve` (issue 12, "Faults").
extension FaultTests {
    @Test(
        "a full disk under the data directory: a push is refused with git's reason and an API write answers 507 changing nothing, while clones go on; once there is room again both succeed without a restart"
    )
    func fullDisk() async throws {
        let root = try makeTemporaryDirectory("gatehouse-full")
        defer { try? FileManager.default.removeItem(at: root) }
        try await withSmallDisk(at: root.appendingPathComponent("disk"), megabytes: 48) { disk in
            let (cli, key) = try await CLI.withAlicesKey(in: disk)
            let secret = try await cli("token", "create", "alice", "fault", "--scope", "repository:admin").stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let local = root.appendingPathComponent("local")
            #expect(try await runCommand("git", ["init", "-q", "-b", "main", local.path]).succeeded)
            try Data("first\n".utf8).write(to: local.appendingPathComponent("README"))
            #expect(try await runCommand("git", ["-C", local.path, "add", "."]).succeeded)
            #expect(try await runCommand("git", ["-C", local.path, "commit", "-q", "-m", "first"]).succeeded)
            let machine = try await KeyPair.generate("ed25519", in: root)
            let body = #"{"label": "ci", "key": "\#(machine.publicKey)"}"#

            let status = try await withServer(binary: cli.binary, data: cli.data) { start in
                let git = StormTests.git(port: start.sshPort, key: key)
                let url = "ssh://git@127.0.0.1:\(start.sshPort)/acme/app.git"
                let api = HTTPClient(port: start.httpPort, secret: secret)
                let keys = "/2.0/repositories/acme/app/deploy-keys"
                #expect(try await runCommand("git", ["-C", local.path, "push", "-q", url, "main"], environment: git).succeeded)

                let filled = try await runCommand(
                    "bash", ["-c", "dd if=/dev/zero of=\(disk.path)/filler bs=1M 2>/dev/null; df --output=avail -B1 \(disk.path) | tail -1"])
                #expect(Int(filled.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) == 0, "the disk is full: \(filled)")
                let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
                try random.readData(ofLength: 3 * 1_048_576).write(to: local.appendingPathComponent("blob"))
                #expect(try await runCommand("git", ["-C", local.path, "add", "."]).succeeded)
                #expect(try await runCommand("git", ["-C", local.path, "commit", "-q", "-m", "blob"]).succeeded)
                let refused = try await runCommand("git", ["-C", local.path, "push", url, "main"], environment: git)
                #expect(!refused.succeeded && refused.stderr.contains("No space left on device"), "\(refused)")
                let added = try await api.request("POST", keys, body: body)
                #expect(added.status == 507 && added.body.contains("The server's disk is full, so nothing was changed."), "\(added)")
                let listed = try await api.request("GET", keys)
                #expect(listed.status == 200 && listed.body.contains(#""size":0"#), "nothing was added: \(listed)")
                let clone = root.appendingPathComponent("clone-while-full")
                #expect(try await runCommand("git", ["clone", "-q", url, clone.path], environment: git).succeeded, "clones go on")

                try FileManager.default.removeItem(at: disk.appendingPathComponent("filler"))
                let pushed = try await runCommand("git", ["-C", local.path, "push", "-q", url, "main"], environment: git)
                #expect(pushed.succeeded, "the same push once there is room: \(pushed)")
                let addedNow = try await api.request("POST", keys, body: body)
                #expect(addedNow.status == 200, "the same write once there is room: \(addedNow)")
            }
            #expect(status == 0)
            let repository = cli.data.appendingPathComponent("repositories/acme/app.git").path
            let fsck = try await runCommand("git", ["--git-dir", repository, "fsck", "--no-progress", "--no-dangling"])
            #expect(fsck.succeeded && fsck.stderr.isEmpty, "\(fsck)")
        }
    }

    @Test(
        "a database another process holds locked for writing: reads and clones go on, a write answers 503 after database.busy-timeout-seconds and grants nothing; when the lock goes, the same writes succeed without a restart"
    )
    func lockedDatabase() async throws {
        let root = try makeTemporaryDirectory("gatehouse-locked")
        defer { try? FileManager.default.removeItem(at: root) }
        let (cli, alicesKey) = try await CLI.withAlicesKey(in: root)
        let deployKey = try await KeyPair.generate("ed25519", in: root)
        #expect(try await cli("deploy-key", "add", "acme/app", "--label", "ci", "--key-file", deployKey.privateKeyPath + ".pub").succeeded)
        let secret = try await cli("token", "create", "alice", "fault", "--scope", "repository:admin").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let registration = try await cli("registration-token", "create", "acme").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let machine = try await KeyPair.generate("ed25519", in: root)
        let register = #"{"label": "runner", "key": "\#(machine.publicKey)"}"#
        let locked = root.appendingPathComponent("locked")
        let release = root.appendingPathComponent("release")

        let status = try await withServer(
            binary: cli.binary, data: cli.data, environment: ["GATEHOUSE_DATABASE_BUSY_TIMEOUT_SECONDS": "3"]
        ) { start in
            let url = "ssh://git@127.0.0.1:\(start.sshPort)/acme/app.git"
            let api = HTTPClient(port: start.httpPort, secret: secret)
            let registrar = HTTPClient(port: start.httpPort, secret: registration)
            // As a backup tool or an operator's `sqlite3` shell would: a write transaction held open.
            let locker = Task {
                try await runCommand(
                    "python3",
                    [
                        "-c",
                        """
                        import os, sqlite3, sys, time
                        db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
                        db.execute("BEGIN IMMEDIATE"); open(sys.argv[2], "w").close()
                        deadline = time.time() + 120
                        while not os.path.exists(sys.argv[3]) and time.time() < deadline: time.sleep(0.05)
                        db.execute("ROLLBACK")
                        """,
                        cli.data.appendingPathComponent("gatehouse.sqlite").path, locked.path, release.path,
                    ])
            }
            defer { FileManager.default.createFile(atPath: release.path, contents: nil) }
            for _ in 0..<600 where !FileManager.default.fileExists(atPath: locked.path) { try await Task.sleep(for: .milliseconds(50)) }
            try #require(FileManager.default.fileExists(atPath: locked.path), "the other process holds the lock")

            let read = try await runCommand("git", ["ls-remote", url], environment: StormTests.git(port: start.sshPort, key: deployKey))
            #expect(read.succeeded, "a clone's access check only reads: \(read)")
            let listed = try await api.request("GET", "/2.0/repositories/acme/app/deploy-keys")
            #expect(listed.status == 200 && listed.body.contains(#""size":1"#), "\(listed)")
            let started = ContinuousClock.now
            let removalAnswered = Flag()
            let pendingRemoval = Task {
                let answer = try await api.request("DELETE", "/2.0/repositories/acme/app/deploy-keys/1")
                await removalAnswered.raise()
                return answer
            }
            // While the removal waits for the lock on the writing connection, a login that has to read (a key not
            // seen before) is answered from the reading one.
            try await Task.sleep(for: .milliseconds(300))
            let ssh = StormTests.git(port: start.sshPort, key: alicesKey)["GIT_SSH_COMMAND"]!.split(separator: " ").map(String.init)
            let login = try await runCommand(ssh[0], Array(ssh.dropFirst()) + ["-T", "git@127.0.0.1"])
            let removalPendingAfterLogin = await !removalAnswered.isRaised
            #expect(login.stderr.contains("Hi alice!"), "the greeting, on standard error as with GitHub: \(login)")
            let removal = try await pendingRemoval.value
            let waited = ContinuousClock.now - started
            #expect(removalPendingAfterLogin, "the login was answered while the removal still waited: \(login)")
            #expect(removal.status == 503 && removal.body.contains("The server cannot do this right now; try again."), "\(removal)")
            #expect(waited >= .seconds(3) && waited < .seconds(12), "it waited database.busy-timeout-seconds, not for the lock: \(waited)")
            let registered = try await registrar.request("POST", "/2.0/workspaces/acme/deploy-keys/register", body: register)
            #expect(registered.status == 503, "\(registered)")
            let machineRead = try await runCommand("git", ["ls-remote", url], environment: StormTests.git(port: start.sshPort, key: machine))
            #expect(!machineRead.succeeded, "a registration that failed granted nothing: \(machineRead)")

            FileManager.default.createFile(atPath: release.path, contents: nil)
            #expect(try await locker.value.succeeded)
            let removed = try await api.request("DELETE", "/2.0/repositories/acme/app/deploy-keys/1")
            #expect(removed.status == 204, "\(removed)")
            let gone = try await runCommand("git", ["ls-remote", url], environment: StormTests.git(port: start.sshPort, key: deployKey))
            #expect(!gone.succeeded, "\(gone)")
            let registeredNow = try await registrar.request("POST", "/2.0/workspaces/acme/deploy-keys/register", body: register)
            #expect(registeredNow.status == 200, "the token was not used up by the failed attempt: \(registeredNow)")
            let machineReadNow = try await runCommand("git", ["ls-remote", url], environment: StormTests.git(port: start.sshPort, key: machine))
            #expect(machineReadNow.succeeded, "\(machineReadNow)")
        }
        #expect(status == 0)
    }

    /// A tmpfs of its own at `directory` while `body` runs, so that filling it fills nothing else. Mounting needs
    /// root, which the test command has (it installs packages too).
    private func withSmallDisk(at directory: URL, megabytes: Int, _ body: (URL) async throws -> Void) async throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let mounted = try await runCommand("mount", ["-t", "tmpfs", "-o", "size=\(megabytes)m", "tmpfs", directory.path])
        try #require(mounted.succeeded, "a tmpfs for the data directory (mounting needs root): \(mounted)")
        do {
            try await body(directory)
        } catch {
            _ = try? await runCommand("umount", ["-l", directory.path])
            throw error
        }
        #expect(try await runCommand("umount", ["-l", directory.path]).succeeded)
    }
}

/// curl against a running server with a bearer secret: the status and the body.
private struct HTTPClient {
    let port: Int
    let secret: String

    func request(_ method: String, _ path: String, body: String? = nil) async throws -> (status: Int, body: String) {
        var arguments = ["-s", "-X", method, "-w", "\n%{http_code}", "-H", "Authorization: Bearer \(secret)"]
        if let body { arguments += ["-H", "Content-Type: application/json", "-d", body] }
        let result = try await runCommand("curl", arguments + ["http://127.0.0.1:\(port)\(path)"])
        let status = Int(result.stdout.split(separator: "\n").last ?? "") ?? 0
        return (status, String(result.stdout.split(separator: "\n").dropLast().joined(separator: "\n")))
    }
}

/// Something that happened, seen from another task.
private actor Flag {
    private(set) var isRaised = false
    func raise() { isRaised = true }
}
