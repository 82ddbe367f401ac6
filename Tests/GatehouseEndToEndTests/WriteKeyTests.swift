import Foundation
import GatehouseCore
import Testing

/// Write-enabled deployment keys limited to ref rules, driven by the real git over both front ends: every ref of a
/// push is checked before anything is written, and the whole push is refused if one ref is.
@Suite("Write-enabled deployment keys")
struct WriteKeyTests {
    /// A clone of acme/app made with `key`, ready to commit and push.
    static func workingCopy(_ gatehouse: TestGatehouse, key: KeyPair) async throws -> URL {
        let local = gatehouse.scratch("write")
        let cloned = try await gatehouse.git(["clone", "-q", gatehouse.url("acme/app"), local.path], keys: [key])
        try #require(cloned.succeeded, "\(cloned)")
        return local
    }

    static func commit(_ gatehouse: TestGatehouse, in local: URL, file: String) async throws {
        try file.write(to: local.appendingPathComponent(file), atomically: true, encoding: .utf8)
        _ = try await gatehouse.git(["add", file], in: local)
        _ = try await gatehouse.git(["commit", "-q", "-m", "Add \(file)"], in: local)
    }

    static func addWriteKey(_ gatehouse: TestGatehouse, _ key: KeyPair, rules: [String], label: String = "jenkins") async throws {
        let permission = try KeyPermission(access: .write, rules: rules.map { try RefRule(parsing: $0) })
        _ = try await gatehouse.data.keys.addDeployKey(
            actor: .localOperator, repositories: ["acme/app"], label: label, keyText: key.publicKey, permission: permission)
    }

    @Test(
        "a tag-only key creates v1.0; main, deleting the tag, a force-push and a mixed push are refused and write nothing",
        arguments: FrontEnd.allCases)
    func tagOnlyKey(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let jenkins = try await gatehouse.key()
            try await Self.addWriteKey(gatehouse, jenkins, rules: ["refs/tags/v*:create"])
            let local = try await Self.workingCopy(gatehouse, key: jenkins)
            let url = gatehouse.url("acme/app")

            _ = try await gatehouse.git(["tag", "v1.0"], in: local)
            let tagged = try await gatehouse.git(["push", url, "refs/tags/v1.0"], keys: [jenkins], in: local)
            #expect(tagged.succeeded, "\(tagged)")
            #expect(try await gatehouse.refs(of: "acme/app").contains("refs/tags/v1.0"))

            let before = try await gatehouse.refs(of: "acme/app")
            try await Self.commit(gatehouse, in: local, file: "build-1")
            let refusals: [(arguments: [String], says: String)] = [
                (["push", url, "HEAD:refs/heads/main"], "refs/heads/main (update) refused"),
                (["push", url, ":refs/tags/v1.0"], "refs/tags/v1.0 (delete) refused"),
                (["push", url, "HEAD:refs/tags/v2.0", "HEAD:refs/heads/main"], "refs/heads/main (update) refused"),
            ]
            for refusal in refusals {
                let pushed = try await gatehouse.git(refusal.arguments, keys: [jenkins], in: local)
                #expect(!pushed.succeeded, "\(refusal.arguments): \(pushed)")
                #expect(pushed.stderr.contains("deployment key 'jenkins' may create refs/tags/v* only;"), "\(pushed)")
                #expect(pushed.stderr.contains(refusal.says), "\(pushed)")
                #expect(try await gatehouse.refs(of: "acme/app") == before, "\(refusal.arguments) wrote nothing")
            }
            // A tag moved to unrelated history is a force-push.
            _ = try await gatehouse.git(["checkout", "-q", "--orphan", "elsewhere"], in: local)
            try await Self.commit(gatehouse, in: local, file: "unrelated")
            let forced = try await gatehouse.git(["push", "-f", url, "HEAD:refs/tags/v1.0"], keys: [jenkins], in: local)
            #expect(!forced.succeeded && forced.stderr.contains("refs/tags/v1.0 (force) refused"), "\(forced)")
            #expect(try await gatehouse.refs(of: "acme/app") == before)

            let audit = try await gatehouse.data.store.auditEntries(workspace: nil, limit: 50)
            #expect(audit.contains { $0.action == .refChanged && $0.detail.hasPrefix("refs/tags/v1.0 000000000000 → ") && $0.detail.hasSuffix("(create)") })
            #expect(audit.filter { $0.action == .pushDenied }.count == 4, "\(audit.map(\.detail))")
        }
    }

    @Test("a release/** key fast-forwards refs/heads/release/2026/q4 but cannot force it", arguments: FrontEnd.allCases)
    func releaseBranches(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let releaser = try await gatehouse.key()
            try await Self.addWriteKey(gatehouse, releaser, rules: ["refs/heads/release/**"], label: "releaser")
            let local = try await Self.workingCopy(gatehouse, key: releaser)
            let url = gatehouse.url("acme/app")
            let created = try await gatehouse.git(["push", url, "HEAD:refs/heads/release/2026/q4"], keys: [releaser], in: local)
            #expect(created.succeeded, "\(created)")
            try await Self.commit(gatehouse, in: local, file: "fix")
            let updated = try await gatehouse.git(["push", url, "HEAD:refs/heads/release/2026/q4"], keys: [releaser], in: local)
            #expect(updated.succeeded, "\(updated)")
            let before = try await gatehouse.refs(of: "acme/app")
            _ = try await gatehouse.git(["reset", "-q", "--hard", "HEAD~1"], in: local)
            try await Self.commit(gatehouse, in: local, file: "rewrite")
            let forced = try await gatehouse.git(["push", "-f", url, "HEAD:refs/heads/release/2026/q4"], keys: [releaser], in: local)
            #expect(!forced.succeeded && forced.stderr.contains("refs/heads/release/2026/q4 (force) refused"), "\(forced)")
            #expect(try await gatehouse.refs(of: "acme/app") == before)
        }
    }

    @Test("the pushing key cannot be forged: variables and push options naming another key get nowhere")
    func identityCannotBeForged() async throws {
        try await TestGatehouse.with(.builtIn) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let tagger = try await gatehouse.key()
            try await Self.addWriteKey(gatehouse, tagger, rules: ["refs/tags/v*"], label: "tagger")
            let mighty = try await gatehouse.key()
            try await Self.addWriteKey(gatehouse, mighty, rules: ["refs/**:create,update,force,delete"], label: "mighty")
            let mightyID = try #require(try await gatehouse.data.store.storedKey(fingerprint: try await mighty.fingerprint())).id
            let local = try await Self.workingCopy(gatehouse, key: tagger)
            try await Self.commit(gatehouse, in: local, file: "sneaky")
            let before = try await gatehouse.refs(of: "acme/app")
            let forged = "GATEHOUSE_HOOK_KEY=\(mightyID.uuidString)"
            // ssh really sends these variables: GIT_SSH_COMMAND is the command git runs (it overrides core.sshCommand).
            let forgingSSH = TestGatehouse.shellQuoted(gatehouse.sshCommand([tagger], options: ["-o", "SetEnv=\(forged) GATEHOUSE_DATA=/tmp"]))
            let attempts: [(arguments: [String], sshCommand: String?, says: String)] = [
                (["push", gatehouse.url("acme/app"), "HEAD:refs/heads/main"], forgingSSH, "refs/heads/main (update) refused"),
                (["push", "--push-option=\(forged)", gatehouse.url("acme/app"), "HEAD:refs/heads/main"], nil, "push options"),
            ]
            for attempt in attempts {
                let pushed =
                    if let sshCommand = attempt.sshCommand {
                        try await gatehouse.runAsync("git", ["-C", local.path] + attempt.arguments, environment: ["GIT_SSH_COMMAND": sshCommand])
                    } else {
                        try await gatehouse.git(attempt.arguments, keys: [tagger], in: local)
                    }
                #expect(!pushed.succeeded && pushed.stderr.contains(attempt.says), "\(attempt.arguments): \(pushed)")
                #expect(try await gatehouse.refs(of: "acme/app") == before)
            }
        }
    }

    @Test("with the workspace's policy off, a write-enabled key acts read-only and says why; new write keys are refused")
    func workspacePolicy() async throws {
        try await TestGatehouse.with(.builtIn) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let tagger = try await gatehouse.key()
            try await Self.addWriteKey(gatehouse, tagger, rules: ["refs/tags/v*"], label: "tagger")
            try await gatehouse.data.directory.setAllowWriteDeployKeys(actor: .localOperator, workspace: "acme", allowed: false)
            let local = try await Self.workingCopy(gatehouse, key: tagger)
            _ = try await gatehouse.git(["tag", "v9"], in: local)
            let pushed = try await gatehouse.git(["push", gatehouse.url("acme/app"), "refs/tags/v9"], keys: [tagger], in: local)
            #expect(!pushed.succeeded && pushed.stderr.contains("allows no write-enabled deployment keys"), "\(pushed)")
            let another = try await gatehouse.key()
            await #expect(throws: GatehouseError.writeKeysNotAllowed(workspace: "acme")) {
                try await Self.addWriteKey(gatehouse, another, rules: ["refs/tags/v*"])
            }
        }
    }
}

/// Workspace deployment keys: one key for the repositories its selector names, those created later included.
@Suite("Workspace deployment keys")
struct WorkspaceKeyTests {
    @Test(
        "a key for all repositories clones one created after it; web-* reaches web-shop, not api; removal ends it",
        arguments: FrontEnd.allCases)
    func selectors(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            let owner = try await gatehouse.seeded(repositories: ["acme/web-shop", "acme/api"])
            let seatsBefore = try await gatehouse.data.store.members(workspace: try await gatehouse.data.directory.requireWorkspace("acme")).count
            let everything = try await gatehouse.key()
            let web = try await gatehouse.key()
            _ = try await gatehouse.data.keys.addWorkspaceDeployKey(
                actor: .localOperator, workspace: "acme", label: "fleet", keyText: everything.publicKey, selector: .all)
            let webKey = try await gatehouse.data.keys.addWorkspaceDeployKey(
                actor: .localOperator, workspace: "acme", label: "web", keyText: web.publicKey, selector: try RepositorySelector(parsing: "web-*"))
            try await gatehouse.repository("acme/later")
            try await gatehouse.pushCommit(to: "acme/later", with: owner, file: "README.md", content: "later\n")

            func clones(_ key: KeyPair, _ fullName: String) async throws -> Bool {
                try await gatehouse.git(["clone", "-q", gatehouse.url(fullName), gatehouse.scratch("ws").path], keys: [key]).succeeded
            }
            #expect(try await clones(everything, "acme/later"))
            #expect(try await clones(everything, "acme/api"))
            #expect(try await clones(web, "acme/web-shop"))
            #expect(try await !clones(web, "acme/api"))
            let greeting = try await gatehouse.ssh(web)
            #expect(greeting.stderr.contains("workspace acme (web-*): 1 repositories now (acme/web-shop)"), "\(greeting)")
            #expect(greeting.stderr.contains("It can write: (none"), "\(greeting)")
            #expect(try await gatehouse.data.store.members(workspace: try await gatehouse.data.directory.requireWorkspace("acme")).count == seatsBefore)

            try await gatehouse.data.keys.removeWorkspaceDeployKey(actor: .localOperator, workspace: "acme", id: webKey.id)
            #expect(try await !clones(web, "acme/web-shop"))
        }
    }

    @Test("a rotated key: both keys clone during the overlap, the old one is refused once the server ended it", arguments: FrontEnd.allCases)
    func rotation(frontEnd: FrontEnd) async throws {
        try await TestGatehouse.with(frontEnd) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app", "acme/lib"])
            let old = try await gatehouse.key()
            let new = try await gatehouse.key()
            try await gatehouse.addDeployKey(old, to: ["acme/app", "acme/lib"], label: "ci")
            let rotation = try await gatehouse.data.keys.rotate(
                actor: .localOperator, workspace: "acme", oldFingerprint: try await old.fingerprint(), newKeyText: new.publicKey, overlap: 3600)
            #expect(rotation.steps.map(\.place).sorted() == ["acme/app", "acme/lib"])
            func clones(_ key: KeyPair) async throws -> Bool {
                try await gatehouse.git(["clone", "-q", gatehouse.url("acme/lib"), gatehouse.scratch("rotate").path], keys: [key]).succeeded
            }
            #expect(try await clones(old))
            #expect(try await clones(new))
            let later = KeyService(store: gatehouse.data.store, clock: { Date().addingTimeInterval(7200) })
            #expect(try await later.finishRotations() == 1)
            #expect(try await !clones(old))
            #expect(try await clones(new))
        }
    }

    @Test("workspace administrators manage workspace keys; a repository administrator cannot, and sees them as from the workspace")
    func whoManages() async throws {
        try await TestGatehouse.with(.builtIn) { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            try await gatehouse.user("rita")
            try await gatehouse.data.directory.grant(repository: "acme/app", username: "rita", level: .admin)
            let rita = try await gatehouse.data.directory.requireUser("rita")
            let olivia = try await gatehouse.data.directory.requireUser("olivia")
            let key = try await gatehouse.key()
            await #expect(throws: GatehouseError.accessDenied(.notWorkspaceAdministrator(workspace: "acme"))) {
                _ = try await gatehouse.data.keys.addWorkspaceDeployKey(
                    actor: .user(rita), workspace: "acme", label: "fleet", keyText: key.publicKey, selector: .all)
            }
            let added = try await gatehouse.data.keys.addWorkspaceDeployKey(
                actor: .user(olivia), workspace: "acme", label: "fleet", keyText: key.publicKey, selector: .all)
            let seen = try await gatehouse.data.keys.workspaceDeployKeys(actor: .user(rita), covering: "acme/app")
            #expect(seen.map(\.id) == [added.id])
            let mail = try await gatehouse.data.store.mail(status: nil, limit: 10).filter { $0.mail.subject.contains("added to workspace acme") }
            #expect(mail.map(\.mail.to) == ["olivia@example.com"])
        }
    }
}
