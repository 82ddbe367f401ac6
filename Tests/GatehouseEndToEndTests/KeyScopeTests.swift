import Foundation
import Testing

@Suite("What a key reaches")
struct KeyScopeTests {
    @Test("one key on two repositories clones both and not a third", arguments: FrontEnd.allCases)
    func oneKeyTwoRepositories(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/lib", "acme/secret"])
            let deployKey = try await gatehouse.key()
            let added = try await gatehouse.addDeployKey(deployKey, to: ["acme/app", "acme/lib"])
            #expect(Set(added.map(\.id)).count == 2, "each attachment has its own id")
            for name in ["acme/app", "acme/lib"] {
                let result = try await gatehouse.git(["clone", "-q", gatehouse.url(name), gatehouse.scratch("c").path], keys: [deployKey])
                #expect(result.succeeded, "\(name): \(result)")
            }
            let third = try await gatehouse.git(["clone", "-q", gatehouse.url("acme/secret"), gatehouse.scratch("c").path], keys: [deployKey])
            #expect(!third.succeeded)
            #expect(third.stderr.contains("acme/secret.git' not found or access denied"), "\(third)")
        }
    }

    @Test("a repository that does not exist and one the key cannot read get the same answer", arguments: FrontEnd.allCases)
    func noExistenceLeak(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/secret"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            let hidden = try await gatehouse.ssh(deployKey, command: "git-upload-pack 'acme/secret.git'")
            let missing = try await gatehouse.ssh(deployKey, command: "git-upload-pack 'acme/absent.git'")
            #expect(hidden.status == missing.status && hidden.status != 0)
            // Gatehouse's lines only: sshd runs the forced command through the account's login shell, whose start-up
            // files may print too (a pyenv in root's .bashrc complains when two sessions start at once).
            func refusal(_ result: CommandResult) -> [Substring] { result.stderr.split(separator: "\n").filter { $0.hasPrefix("ERROR: ") } }
            #expect(!refusal(missing).isEmpty)
            #expect(refusal(hidden).map { $0.replacingOccurrences(of: "secret", with: "absent") } == refusal(missing).map(String.init), "\(hidden)\n\(missing)")
        }
    }

    @Test("a removed key is refused on the next connection", arguments: FrontEnd.allCases)
    func removedKeyRefused(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            let added = try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            #expect(try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [deployKey]).succeeded)
            try await gatehouse.data.keys.removeDeployKey(actor: .localOperator, repository: "acme/app", id: added[0].id)
            let after = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [deployKey])
            #expect(!after.succeeded)
            #expect(after.stderr.contains("Permission denied (publickey)"), "\(after)")
        }
    }

    @Test("an unknown key cannot authenticate", arguments: FrontEnd.allCases)
    func unknownKeyRefused(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let stranger = try await gatehouse.key()
            let result = try await gatehouse.ssh(stranger)
            #expect(result.status == 255)
            #expect(result.stderr.contains("Permission denied (publickey)"), "\(result)")
        }
    }

    @Test("public repositories are readable by any account key but not by other repositories' deployment keys")
    func publicRepositories() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            try await gatehouse.repository("acme/docs", isPublic: true)
            try await gatehouse.user("pat")
            let accountKey = try await gatehouse.key()
            try await gatehouse.addAccountKey(accountKey, user: "pat")
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            #expect(try await gatehouse.git(["ls-remote", gatehouse.url("acme/docs")], keys: [accountKey]).succeeded)
            #expect(try await !gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [accountKey]).succeeded)
            #expect(try await !gatehouse.git(["ls-remote", gatehouse.url("acme/docs")], keys: [deployKey]).succeeded)
        }
    }
}
