import Foundation
import Testing

/// What a crash leaves behind (issue 12, "Faults").
@Suite("Faults")
struct FaultTests {
    static let repositories = ["acme/app", "acme/lib", "acme/web", "acme/ops"]
    static let pushes = 20

    @Test("kill -9 of the server and its git during 20 concurrent pushes: every repository is fsck-clean and every acknowledged push is there after a restart")
    func killedDuringPushes() async throws {
        let root = try makeTemporaryDirectory("gatehouse-fault")
        defer { try? FileManager.default.removeItem(at: root) }
        let (cli, key) = try await CLI.withAlicesKey(in: root)
        for name in Self.repositories.dropFirst() { #expect(try await cli("repo", "create", name).succeeded) }
        // Each push carries 3 MiB that do not compress, so that they are still running when the server dies.
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        var locals: [URL] = []
        for index in 0..<Self.pushes {
            let local = root.appendingPathComponent("local-\(index)")
            #expect(try await runCommand("git", ["init", "-q", "-b", "main", local.path]).succeeded)
            try random.readData(ofLength: 3 * 1_048_576).write(to: local.appendingPathComponent("blob-\(index)"))
            #expect(try await runCommand("git", ["-C", local.path, "add", "."]).succeeded)
            #expect(try await runCommand("git", ["-C", local.path, "commit", "-q", "-m", "push \(index)"]).succeeded)
            locals.append(local)
        }

        let acknowledged = Acknowledged()
        _ = try? await withServer(binary: cli.binary, data: cli.data) { start in
            let git = StormTests.git(port: start.sshPort, key: key)
            // The moment the first push is acknowledged, the server dies with the others under way, and its git
            // processes with it, as in a crash of the machine (frozen first, so that it starts no more). A process of
            // its own watches, so that a busy test process cannot be late; the pushes start 0.15 s apart.
            let killer = Task {
                try await runCommand(
                    "timeout",
                    [
                        "120", "bash", "-c",
                        "until ls \(root.path)/acknowledged-* >/dev/null 2>&1; do sleep 0.01; done; kill -STOP \(start.pid); pkill -KILL -P \(start.pid); kill -KILL \(start.pid)",
                    ])
            }
            await withTaskGroup(of: Void.self) { group in
                for (index, local) in locals.enumerated() {
                    group.addTask {
                        let url = "ssh://git@127.0.0.1:\(start.sshPort)/\(Self.repositories[index % Self.repositories.count]).git"
                        let script =
                            "sleep \(Double(index) * 0.15); git -C \(local.path) push -q \(url) main:refs/heads/push-\(index) && touch \(root.path)/acknowledged-\(index)"
                        let pushed = try? await runCommand("bash", ["-c", script], environment: git)
                        await acknowledged.record(index, pushed?.succeeded == true)
                    }
                }
            }
            _ = try? await killer.value
        }
        let succeeded = await acknowledged.succeeded
        let finished = await acknowledged.finished
        #expect(finished == Self.pushes)
        #expect(!succeeded.isEmpty && succeeded.count < Self.pushes, "acknowledged \(succeeded.sorted()) of \(Self.pushes): the kill came during the pushes")

        for name in Self.repositories {
            let directory = cli.data.appendingPathComponent("repositories/\(name).git").path
            let fsck = try await runCommand("git", ["--git-dir", directory, "fsck", "--no-progress", "--no-dangling"])
            // "HEAD points to an unborn branch" is a notice: the pushes made branches of their own, not main.
            let problems = fsck.stderr.split(separator: "\n").filter { !$0.hasPrefix("notice:") }
            #expect(fsck.succeeded && problems.isEmpty, "\(name): \(fsck)")
        }
        let status = try await withServer(binary: cli.binary, data: cli.data) { start in
            let git = StormTests.git(port: start.sshPort, key: key)
            for index in succeeded {
                let name = Self.repositories[index % Self.repositories.count]
                let head = try await runCommand("git", ["-C", locals[index].path, "rev-parse", "HEAD"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                let listed = try await runCommand(
                    "git", ["ls-remote", "ssh://git@127.0.0.1:\(start.sshPort)/\(name).git", "refs/heads/push-\(index)"], environment: git)
                #expect(listed.stdout.hasPrefix(head), "acknowledged push \(index) to \(name): \(listed)")
            }
        }
        #expect(status == 0)
    }

    /// Which pushes git reported as done.
    actor Acknowledged {
        var succeeded: [Int] = []
        var finished = 0

        func record(_ index: Int, _ ok: Bool) {
            finished += 1
            if ok { succeeded.append(index) }
        }
    }
}
