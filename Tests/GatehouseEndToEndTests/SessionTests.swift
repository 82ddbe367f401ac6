import Foundation
import Testing

@Suite("SSH sessions")
struct SessionTests {
    @Test("ssh -T greets an account key with who it is and what it can reach", arguments: FrontEnd.allCases)
    func accountGreeting(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let result = try await gatehouse.ssh(ownerKey, options: ["-T"])
            #expect(result.succeeded, "\(result)")
            #expect(result.stderr.contains("Hi olivia!"))
            let fingerprint = try await ownerKey.fingerprint()
            #expect(result.stderr.contains(fingerprint))
            #expect(result.stderr.contains("does not provide shell access"))
            #expect(result.stderr.contains("You can write: acme/app"))
        }
    }

    @Test("ssh -T names a deployment key by label and fingerprint and lists its repositories", arguments: FrontEnd.allCases)
    func deployKeyGreeting(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/lib"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app", "acme/lib"], label: "buildkite")
            let result = try await gatehouse.ssh(deployKey, options: ["-T"])
            #expect(result.succeeded, "\(result)")
            let fingerprint = try await deployKey.fingerprint()
            #expect(result.stderr.contains("deployment key \"buildkite\" (\(fingerprint))"), "\(result)")
            #expect(result.stderr.contains("It can read: acme/app, acme/lib."))
            #expect(result.stderr.contains("read-only"))
        }
    }

    @Test(
        "refuses commands other than the Git services, and shell syntax", arguments: FrontEnd.allCases,
        [
            ("ls -la", "Unknown command 'ls'"),
            ("sh -c id", "Unknown command 'sh'"),
            ("git-upload-pack 'acme/app.git'; id", "control characters or shell syntax"),
            ("git-upload-pack 'acme/app.git' | cat", "control characters or shell syntax"),
            ("git-upload-pack $(id)", "control characters or shell syntax"),
            ("git-upload-pack `id`", "control characters or shell syntax"),
            ("git-upload-pack 'acme/app.git' extra", "Expected exactly one repository path"),
            ("git-upload-pack 'acme/app.git", "Expected exactly one repository path"),
            ("git-upload-pack '../../etc/passwd'", "not found or access denied"),
            ("git-upload-pack 'acme/../acme/app.git'", "not found or access denied"),
            ("git-upload-pack '/etc/passwd'", "not found or access denied"),
            ("git-upload-pack 'acme/app.git/../../x'", "not found or access denied"),
            ("git-upload-pack 'acme/app\u{1}.git'", "control characters or shell syntax"),
            ("git-upload-pack 'acme/app.git\nid'", "control characters or shell syntax"),
        ])
    func refusedCommands(frontEnd: FrontEnd, command: (String, String)) async throws {
        let (command, message) = command
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            let result = try await gatehouse.ssh(deployKey, command: command)
            #expect(result.status == 1, "\(result)")
            #expect(result.stderr.contains(message), "\(result)")
            #expect(result.stdout.isEmpty)
        }
    }

    @Test("a repository directory that is a symlink out of the repository root is refused")
    func symlinkOutOfRoot() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let outside = gatehouse.root.appendingPathComponent("outside.git")
            _ = try await gatehouse.runAsync("git", ["init", "-q", "--bare", outside.path])
            let repository = try await gatehouse.repository("acme/escape")
            let directory = gatehouse.data.repositories.directory(of: repository)
            try FileManager.default.removeItem(at: directory)
            try FileManager.default.createSymbolicLink(at: directory, withDestinationURL: outside)
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/escape"])
            let result = try await gatehouse.git(["ls-remote", gatehouse.url("acme/escape")], keys: [deployKey])
            #expect(!result.succeeded)
            #expect(result.stderr.contains("could not run git for acme/escape"), "\(result)")
        }
    }

    @Test("a PTY is refused but the greeting still comes, as for a person typing ssh git@host")
    func ptyRefused() async throws {
        try await TestGatehouse.with { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            // script(1) gives ssh a terminal, so it asks for a PTY the way an interactive user's ssh does.
            let line = (gatehouse.sshCommand([ownerKey]) + ["\(gatehouse.sshUser)@127.0.0.1"]).joined(separator: " ")
            let result = try await gatehouse.runAsync("script", ["-qec", line, "/dev/null"])
            #expect(result.succeeded, "\(result)")
            #expect(result.stdout.contains("PTY allocation request failed"), "\(result)")
            #expect(result.stdout.contains("does not provide shell access"), "\(result)")
        }
    }

    @Test("port forwarding is refused")
    func forwardingRefused() async throws {
        try await TestGatehouse.with { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let result = try await gatehouse.ssh(ownerKey, options: ["-W", "127.0.0.1:\(gatehouse.port)"])
            #expect(result.status != 0)
            #expect(result.stderr.contains("stdio forwarding failed") || result.stderr.contains("open failed"), "\(result)")
        }
    }

    @Test("a user name other than git gets told which one to use")
    func wrongUserName() async throws {
        try await TestGatehouse.with { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let result = try await gatehouse.ssh(ownerKey, user: "olivia", command: "git-upload-pack 'acme/app.git'")
            #expect(result.status == 1)
            #expect(result.stderr.contains("Connect as the user 'git'"), "\(result)")
        }
    }
}
