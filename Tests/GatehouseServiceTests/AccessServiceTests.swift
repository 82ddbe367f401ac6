import Foundation
import GatehouseCore
import Testing

private let oliviaKey = TestKey(seed: 4, comment: "olivia@desk")
private let samKey = TestKey(seed: 5, comment: "sam@home")

/// acme with keys: `ciKey` is a deployment key "ci" on acme/app (read-only); rita, olivia and sam log in with
/// account keys.
struct KeyedAcme: Sendable {
    let acme: Acme
    let keys: KeyService
    let access: AccessService
    let deployKey: DeployKey

    init(store: Store) async throws {
        let acme = try await Acme(store: store)
        let keys = KeyService(store: store)
        deployKey = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)[0]
        _ = try await keys.addAccountKey(actor: .user(acme.rita), username: "rita", label: "laptop", keyText: laptopKey.line)
        _ = try await keys.addAccountKey(actor: .user(acme.olivia), username: "olivia", label: "desk", keyText: oliviaKey.line)
        _ = try await keys.addAccountKey(actor: .user(acme.sam), username: "sam", label: "home", keyText: samKey.line)
        self.acme = acme
        self.keys = keys
        access = AccessService(store: store)
    }

    func pushDenials() async throws -> [AuditEntry] {
        try await acme.auditEntries().filter { $0.action == .pushDenied }
    }
}

/// Whose key an SSH session authenticated with.
enum KeyHolder: String, Sendable {
    case deployKey = "the deployment key"
    case rita, olivia, sam

    var key: TestKey {
        switch self {
        case .deployKey: ciKey
        case .rita: laptopKey
        case .olivia: oliviaKey
        case .sam: samKey
        }
    }
}

/// A command sent over SSH and what the session does with it.
struct GitRequest: Sendable, CustomTestStringConvertible {
    enum Expected: Sendable {
        /// Git runs this service on this repository, at this level.
        case runs(GitService, repository: String, level: AccessLevel)
        /// The session prints this refusal; a denied push is audited against the repository it names.
        case refused(String, auditedOn: String?)
    }

    var behaviour: String
    var holder: KeyHolder
    var command: String
    var expected: Expected

    var testDescription: String { "\(holder.rawValue): \(behaviour)" }

    static var all: [GitRequest] {
        func notFound(_ path: String) -> Expected { .refused(AccessDenial.notFound(path).description, auditedOn: nil) }
        return [
            GitRequest(
                behaviour: "clones the repository it is attached to", holder: .deployKey,
                command: "git-upload-pack 'acme/app.git'", expected: .runs(.uploadPack, repository: "acme/app", level: .read)),
            GitRequest(
                behaviour: "fetches with git's other spelling and a leading slash", holder: .deployKey,
                command: "git upload-pack '/acme/app.git'", expected: .runs(.uploadPack, repository: "acme/app", level: .read)),
            GitRequest(
                behaviour: "cannot push: it is read-only, and the refusal is audited", holder: .deployKey,
                command: "git-receive-pack 'acme/app.git'",
                expected: .refused(
                    AccessDenial.readOnlyDeployKey(label: "ci", fingerprint: ciKey.fingerprint, repository: "acme/app").description,
                    auditedOn: "acme/app")),
            GitRequest(
                behaviour: "finds no private repository it is not attached to", holder: .deployKey,
                command: "git-upload-pack 'acme/tools.git'", expected: notFound("acme/tools.git")),
            GitRequest(
                behaviour: "finds no public repository it is not attached to either", holder: .deployKey,
                command: "git-upload-pack 'acme/site.git'", expected: notFound("acme/site.git")),
            GitRequest(
                behaviour: "a push to a repository it cannot see is not found and not audited", holder: .deployKey,
                command: "git-receive-pack 'acme/tools.git'", expected: notFound("acme/tools.git")),
            GitRequest(
                behaviour: "an unknown repository is not found", holder: .deployKey,
                command: "git-upload-pack 'acme/nope.git'", expected: notFound("acme/nope.git")),
            GitRequest(
                behaviour: "a push to an unknown repository is not found and not audited", holder: .olivia,
                command: "git-receive-pack 'acme/nope.git'", expected: notFound("acme/nope.git")),
            GitRequest(
                behaviour: "a reader clones", holder: .rita,
                command: "git-upload-pack 'acme/app.git'", expected: .runs(.uploadPack, repository: "acme/app", level: .read)),
            GitRequest(
                behaviour: "a reader cannot push, and the refusal is audited", holder: .rita,
                command: "git-receive-pack 'acme/app.git'",
                expected: .refused(AccessDenial.readOnlyAccount(username: "rita", repository: "acme/app").description, auditedOn: "acme/app")),
            GitRequest(
                behaviour: "the owner pushes", holder: .olivia,
                command: "git-receive-pack 'acme/app.git'", expected: .runs(.receivePack, repository: "acme/app", level: .admin)),
            GitRequest(
                behaviour: "an outsider clones a public repository", holder: .sam,
                command: "git-upload-pack 'acme/site.git'", expected: .runs(.uploadPack, repository: "acme/site", level: .read)),
            GitRequest(
                behaviour: "an outsider finds no private repository", holder: .sam,
                command: "git-upload-pack 'acme/tools.git'", expected: notFound("acme/tools.git")),
            GitRequest(
                behaviour: "an outsider cannot push to a public repository, and the refusal is audited", holder: .sam,
                command: "git-receive-pack 'acme/site.git'",
                expected: .refused(AccessDenial.readOnlyAccount(username: "sam", repository: "acme/site").description, auditedOn: "acme/site")),
            GitRequest(
                behaviour: "no command but git's", holder: .olivia,
                command: "ls -la", expected: .refused(GitCommand.ParseError.unknownCommand("ls").description, auditedOn: nil)),
            GitRequest(
                behaviour: "nothing a shell would interpret", holder: .olivia,
                command: "git-upload-pack 'acme/app.git'; rm -rf /",
                expected: .refused(GitCommand.ParseError.forbiddenCharacters.description, auditedOn: nil)),
        ]
    }
}

@Suite("Access service")
struct AccessServiceTests {
    @Test("an account key is its owner")
    func accountPrincipal() async throws {
        try await withStore { store in
            let scene = try await KeyedAcme(store: store)
            let stored = try #require(try await store.keys.key(fingerprint: laptopKey.fingerprint, on: store.db))

            let principal = try await scene.access.principal(fingerprint: laptopKey.fingerprint)

            let rita: Principal = .account(scene.acme.rita, key: KeyReference(id: stored.id, fingerprint: laptopKey.fingerprint, label: stored.label))
            #expect(principal == rita)
        }
    }

    @Test("a deployment key is its attachments: each repository with its label and access")
    func deployKeyPrincipal() async throws {
        try await withStore { store in
            let scene = try await KeyedAcme(store: store)
            let onTools = try await scene.keys.addDeployKey(
                actor: .user(scene.acme.adam), repositories: ["acme/tools"], label: "tools ci",
                keyText: ciKey.line)[0]

            let principal = try await scene.access.principal(fingerprint: ciKey.fingerprint)

            let expected: Principal = .deployKey(
                DeployKeyPrincipal(
                    keyID: scene.deployKey.key.id, fingerprint: ciKey.fingerprint,
                    grants: [
                        DeployKeyGrant(
                            attachmentID: scene.deployKey.id, label: "ci", repositoryID: scene.acme.app.id, repositoryFullName: "acme/app",
                            access: .read),
                        DeployKeyGrant(
                            attachmentID: onTools.id, label: "tools ci", repositoryID: scene.acme.tools.id, repositoryFullName: "acme/tools",
                            access: .read),
                    ]))
            #expect(principal == expected)
        }
    }

    @Test("an unknown key, and a key removed since, are nobody")
    func unknownOrRemovedKey() async throws {
        try await withStore { store in
            let scene = try await KeyedAcme(store: store)
            #expect(try await scene.access.principal(fingerprint: TestKey.random().fingerprint) == nil)

            try await scene.keys.removeDeployKey(actor: .user(scene.acme.olivia), repository: "acme/app", id: scene.deployKey.id)
            let stored = try #require(try await store.keys.key(fingerprint: laptopKey.fingerprint, on: store.db))
            try await scene.keys.removeAccountKey(actor: .user(scene.acme.rita), username: "rita", id: stored.id)

            #expect(try await scene.access.principal(fingerprint: ciKey.fingerprint) == nil)
            #expect(try await scene.access.principal(fingerprint: laptopKey.fingerprint) == nil)
            #expect(try await scene.access.principal(keyID: stored.id) == nil)
        }
    }

    @Test("a Git command runs or is refused as the principal's access says", arguments: GitRequest.all)
    func outcome(_ request: GitRequest) async throws {
        try await withStore { store in
            let scene = try await KeyedAcme(store: store)
            let principal = try #require(try await scene.access.principal(fingerprint: request.holder.key.fingerprint))

            let outcome = await scene.access.outcome(of: request.command, principal: principal, sourceIP: "192.0.2.7")

            let denials = try await scene.pushDenials()
            switch request.expected {
            case .runs(let service, let repository, let level):
                guard case .git(let command) = outcome else {
                    Issue.record("expected git to run, got \(outcome)")
                    return
                }
                #expect(command.service == service)
                #expect(command.repository.fullName == repository)
                #expect(command.level == level)
                #expect(denials.isEmpty)
            case .refused(let message, let auditedOn):
                #expect(outcome == .refusal(message))
                let audited: [String] = if let auditedOn { [auditedOn] } else { [] }
                #expect(denials.map(\.object) == audited)
                if let entry = denials.first {
                    #expect(entry.actor == principal.auditName)
                    #expect(entry.detail == message)
                    #expect(entry.sourceIP == "192.0.2.7")
                }
            }
        }
    }

    @Test("a key's first use of the day is audited once, and its last use recorded", arguments: [KeyHolder.deployKey, .rita])
    func firstUseOfDay(_ holder: KeyHolder) async throws {
        try await withStore { store in
            let scene = try await KeyedAcme(store: store)
            let principal = try #require(try await scene.access.principal(fingerprint: holder.key.fingerprint))

            for _ in 0..<2 {
                let outcome = await scene.access.outcome(of: "git-upload-pack 'acme/app.git'", principal: principal, sourceIP: nil)
                guard case .git = outcome else {
                    Issue.record("expected git to run, got \(outcome)")
                    return
                }
            }

            #expect(try await scene.acme.auditCount(.keyUsed) == 1)
            let stored = try await store.keys.key(fingerprint: holder.key.fingerprint, on: store.db)
            #expect(stored?.lastUsed != nil)
        }
    }

    @Test(
        "a key's first use of the day is audited in every workspace whose repository it read, whoever attached it there",
        arguments: [KeyHolder.deployKey, .rita])
    func firstUseInEachWorkspace(_ holder: KeyHolder) async throws {
        try await withStore { store in
            let scene = try await KeyedAcme(store: store)
            let other = try await scene.acme.directory.addWorkspace(slug: "other", owner: "sam", seatLimit: 2)
            _ = try await scene.acme.directory.createRepository("other/lib", isPrivate: false)
            // Another tenant attaches the same deployment key to its repository.
            _ = try await scene.keys.addDeployKey(actor: .user(scene.acme.sam), repositories: ["other/lib"], label: "ci", keyText: ciKey.line)
            let principal = try #require(try await scene.access.principal(fingerprint: holder.key.fingerprint))

            for repository in ["acme/app", "other/lib", "acme/app", "other/lib"] {
                let outcome = await scene.access.outcome(of: "git-upload-pack '\(repository).git'", principal: principal, sourceIP: nil)
                guard case .git = outcome else {
                    Issue.record("expected git to run on \(repository), got \(outcome)")
                    return
                }
            }

            for (workspace, repository) in [(scene.acme.workspace, "acme/app"), (other, "other/lib")] {
                let used = try await store.audit.entries(workspace: workspace, limit: 100, offset: 0, on: store.db).filter { $0.action == .keyUsed }
                #expect(used.map(\.object) == [repository], "\(workspace.slug)")
            }
        }
    }

    @Test("without a command, a deployment key is greeted with its label, fingerprint and repositories")
    func deployKeyGreeting() async throws {
        try await withStore { store in
            let scene = try await KeyedAcme(store: store)
            let principal = try #require(try await scene.access.principal(fingerprint: ciKey.fingerprint))

            let outcome = await scene.access.outcome(of: nil, principal: principal, sourceIP: nil)

            guard case .message(let greeting, let status) = outcome else {
                Issue.record("expected a greeting, got \(outcome)")
                return
            }
            #expect(status == 0)
            #expect(greeting.contains("\"ci\""))
            #expect(greeting.contains(ciKey.fingerprint))
            #expect(greeting.contains("acme/app"))
            #expect(!greeting.contains("acme/tools"))
        }
    }

    @Test("without a command, an account is greeted by name with what it can read and write")
    func accountGreeting() async throws {
        try await withStore { store in
            let scene = try await KeyedAcme(store: store)
            let principal = try #require(try await scene.access.principal(fingerprint: laptopKey.fingerprint))

            let outcome = await scene.access.outcome(of: nil, principal: principal, sourceIP: nil)

            guard case .message(let greeting, let status) = outcome else {
                Issue.record("expected a greeting, got \(outcome)")
                return
            }
            #expect(status == 0)
            #expect(greeting.contains("Hi rita!"))
            #expect(greeting.contains("acme/app"))
            #expect(!greeting.contains("acme/tools"))
        }
    }

    @Test("an account granted many repositories is greeted with the first 20 of them and how many more there are")
    func longGreeting() async throws {
        try await withStore { store in
            let scene = try await KeyedAcme(store: store)
            for index in 1...24 {
                _ = try await scene.acme.directory.createRepository("acme/many-\(index)", isPrivate: true)
                try await scene.acme.directory.grant(repository: "acme/many-\(index)", username: "rita", level: .read)
            }
            let principal = try #require(try await scene.access.principal(fingerprint: laptopKey.fingerprint))
            guard case .message(let greeting, _) = await scene.access.outcome(of: nil, principal: principal, sourceIP: nil) else {
                Issue.record("expected a greeting")
                return
            }
            let readLine = try #require(greeting.split(separator: "\n").first { $0.hasPrefix("You can read:") })
            // acme/app and 24 more: 25 in all, 20 named.
            #expect(readLine.components(separatedBy: "acme/").count - 1 == 20 && readLine.contains(" and 5 more,"), "\(readLine)")
        }
    }
}
