import Foundation
import Testing

@Suite("Reading with a deployment key")
struct CloneTests {
    @Test("clones over both Git protocol versions", arguments: FrontEnd.allCases, ["0", "2"])
    func clones(frontEnd: FrontEnd, protocolVersion: String) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            let clone = gatehouse.scratch("clone")
            let result = try await gatehouse.git(
                ["-c", "protocol.version=\(protocolVersion)", "clone", gatehouse.url("acme/app"), clone.path], keys: [deployKey])
            #expect(result.succeeded, "\(result)")
            #expect(try String(contentsOf: clone.appendingPathComponent("README.md"), encoding: .utf8) == "acme/app\n")
        }
    }

    @Test("passes GIT_PROTOCOL through, so clients asking for protocol v2 get it", arguments: FrontEnd.allCases)
    func protocolVersionTwo(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            let ssh = gatehouse.sshCommand([deployKey]).joined(separator: " ")
            let traced = try await gatehouse.runAsync(
                "git", ["-c", "protocol.version=2", "ls-remote", gatehouse.url("acme/app")],
                environment: ["GIT_SSH_COMMAND": ssh, "GIT_TRACE_PACKET": "1"])
            #expect(traced.succeeded, "\(traced)")
            #expect(traced.stderr.contains("< version 2"), "\(traced.stderr.prefix(2000))")
            let legacy = try await gatehouse.runAsync(
                "git", ["-c", "protocol.version=0", "ls-remote", gatehouse.url("acme/app")],
                environment: ["GIT_SSH_COMMAND": ssh, "GIT_TRACE_PACKET": "1"])
            #expect(legacy.succeeded && !legacy.stderr.contains("< version 2"), "\(legacy.stderr.prefix(2000))")
        }
    }

    @Test("accepts the scp-like and absolute path forms")
    func pathForms() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            for url in [gatehouse.url("acme/app"), gatehouse.url("acme/app").replacingOccurrences(of: ".git", with: "")] {
                let result = try await gatehouse.git(["ls-remote", url], keys: [deployKey])
                #expect(result.succeeded && result.stdout.contains("refs/heads/main"), "\(url): \(result)")
            }
            for command in ["git-upload-pack 'acme/app.git'", "git upload-pack acme/app", "git-upload-pack '/acme/app.git'"] {
                let result = try await gatehouse.ssh(deployKey, command: command)
                #expect(result.stdout.contains("refs/heads/main"), "\(command): \(result)")
            }
        }
    }

    @Test("fetches and pulls what a writer pushed later")
    func fetchAfterPush() async throws {
        try await TestGatehouse.with { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            let clone = gatehouse.scratch("clone")
            #expect(try await gatehouse.git(["clone", "-q", gatehouse.url("acme/app"), clone.path], keys: [deployKey]).succeeded)
            let push = try await gatehouse.pushCommit(to: "acme/app", with: ownerKey, file: "CHANGELOG", content: "v2\n")
            #expect(push.succeeded, "\(push)")
            let pull = try await gatehouse.git(["pull", "-q", "--ff-only"], keys: [deployKey], in: clone)
            #expect(pull.succeeded, "\(pull)")
            #expect(try String(contentsOf: clone.appendingPathComponent("CHANGELOG"), encoding: .utf8) == "v2\n")
        }
    }

    @Test("lists refs and serves git archive --remote")
    func lsRemoteAndArchive() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            let refs = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [deployKey])
            #expect(refs.succeeded && refs.stdout.contains("refs/heads/main"), "\(refs)")
            let archive = gatehouse.scratch("archive").appendingPathExtension("tar")
            let result = try await gatehouse.git(["archive", "--remote=\(gatehouse.url("acme/app"))", "-o", archive.path, "main"], keys: [deployKey])
            #expect(result.succeeded, "\(result)")
            let listing = try await gatehouse.runAsync("tar", ["tf", archive.path])
            #expect(listing.stdout.split(separator: "\n").contains("README.md"), "\(listing)")
        }
    }

    @Test("records when a deployment key was last used", arguments: FrontEnd.allCases)
    func lastUsed(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            let added = try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            #expect(added[0].lastUsed == nil)
            #expect(try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [deployKey]).succeeded)
            let listed = try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/app")
            #expect(listed.first?.lastUsed != nil)
            // The first use of the day is audited once, however often the key is used.
            #expect(try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [deployKey]).succeeded)
            let fingerprint = try await deployKey.fingerprint()
            let uses = try await gatehouse.data.store.auditEntries(workspace: nil, limit: 50)
                .filter { $0.action == .keyUsed && $0.actor.contains(fingerprint) }
            #expect(uses.count == 1 && uses.first?.object == "acme/app", "\(uses)")
        }
    }

    @Test("each repository a key is on keeps its own last use, however recently the key was used elsewhere", arguments: FrontEnd.allCases)
    func lastUsedPerAttachment(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/lib"])
            let deployKey = try await gatehouse.key()
            _ = try await gatehouse.addDeployKey(deployKey, to: ["acme/app", "acme/lib"])
            for name in ["acme/app", "acme/lib"] {
                #expect(try await gatehouse.git(["ls-remote", gatehouse.url(name)], keys: [deployKey]).succeeded)
            }
            for name in ["acme/app", "acme/lib"] {
                let listed = try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: name)
                #expect(listed.first?.lastUsed != nil, "\(name) was used a moment after the other repository")
            }
        }
    }

    @Test("streams a large clone intact")
    func largeClone() async throws {
        try await TestGatehouse.with { gatehouse in
            let ownerKey = try await gatehouse.seeded(repositories: ["acme/big"])
            let local = gatehouse.scratch("big")
            try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
            _ = try await gatehouse.git(["init", "-q", "-b", "main"], in: local)
            // Incompressible, so the pack is as large as the file and crosses many SSH windows.
            let blob = try #require(FileHandle(forReadingAtPath: "/dev/urandom")).readData(ofLength: 24 * 1024 * 1024)
            try blob.write(to: local.appendingPathComponent("blob.bin"))
            _ = try await gatehouse.git(["add", "blob.bin"], in: local)
            _ = try await gatehouse.git(["commit", "-q", "-m", "big"], in: local)
            let push = try await gatehouse.git(["push", "-f", gatehouse.url("acme/big"), "HEAD:refs/heads/main"], keys: [ownerKey], in: local)
            #expect(push.succeeded, "\(push)")
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/big"])
            let clone = gatehouse.scratch("big-clone")
            let result = try await gatehouse.git(["clone", "-q", gatehouse.url("acme/big"), clone.path], keys: [deployKey])
            #expect(result.succeeded, "\(result)")
            #expect(try Data(contentsOf: clone.appendingPathComponent("blob.bin")) == blob)
        }
    }
}
