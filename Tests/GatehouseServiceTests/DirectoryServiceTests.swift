import Foundation
import GatehouseCore
import Testing

/// Creating something whose name is already taken.
struct Duplicate: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var create: @Sendable (DirectoryService) async throws -> Void

    var testDescription: String { behaviour }

    static let all: [Duplicate] = [
        Duplicate(behaviour: "a user name is taken once") { directory in
            _ = try await directory.addUser(username: "rita", email: "another-rita@example.com")
        },
        Duplicate(behaviour: "a workspace name is taken once") { directory in
            _ = try await directory.addWorkspace(slug: "acme", owner: "sam", seatLimit: 3)
        },
        Duplicate(behaviour: "a repository name is taken once in its workspace") { directory in
            _ = try await directory.createRepository("acme/app", isPrivate: false)
        },
    ]
}

/// Which of acme's repositories an actor sees.
struct Visibility: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var actor: @Sendable (Acme) -> Actor
    var visible: [String]

    var testDescription: String { behaviour }

    static let all: [Visibility] = [
        Visibility(behaviour: "an outsider sees public repositories only", actor: { .user($0.sam) }, visible: ["acme/site"]),
        Visibility(behaviour: "nobody signed in sees public repositories only", actor: { _ in .anonymous }, visible: ["acme/site"]),
        Visibility(behaviour: "a member without permissions sees public repositories only", actor: { .user($0.mia) }, visible: ["acme/site"]),
        Visibility(
            behaviour: "a reader also sees the private repository they may read", actor: { .user($0.rita) },
            visible: ["acme/app", "acme/site"]),
        Visibility(
            behaviour: "an explicit administrator sees the repository they administer", actor: { .user($0.ravi) },
            visible: ["acme/app", "acme/site"]),
        Visibility(
            behaviour: "the owner sees every repository of the workspace", actor: { .user($0.olivia) },
            visible: ["acme/app", "acme/site", "acme/tools"]),
        Visibility(
            behaviour: "a workspace admin sees every repository of the workspace", actor: { .user($0.adam) },
            visible: ["acme/app", "acme/site", "acme/tools"]),
        Visibility(behaviour: "the operator sees everything", actor: { _ in .localOperator }, visible: ["acme/app", "acme/site", "acme/tools"]),
    ]
}

/// Who may create repositories in a workspace (the API's and the web's way; the CLI's needs no actor).
struct RepositoryCreator: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var actor: @Sendable (Acme) -> Actor
    var refusal: GatehouseError?

    var testDescription: String { behaviour }

    static let all: [RepositoryCreator] = [
        RepositoryCreator(behaviour: "the owner creates repositories", actor: { .user($0.olivia) }, refusal: nil),
        RepositoryCreator(behaviour: "a workspace admin creates repositories", actor: { .user($0.adam) }, refusal: nil),
        RepositoryCreator(behaviour: "the operator creates repositories", actor: { _ in .localOperator }, refusal: nil),
        RepositoryCreator(
            behaviour: "a member does not", actor: { .user($0.rita) },
            refusal: .accessDenied(.notWorkspaceAdministrator(workspace: "acme"))),
        RepositoryCreator(
            behaviour: "an administrator of one repository does not", actor: { .user($0.ravi) },
            refusal: .accessDenied(.notWorkspaceAdministrator(workspace: "acme"))),
        RepositoryCreator(
            behaviour: "an outsider does not", actor: { .user($0.sam) },
            refusal: .accessDenied(.notWorkspaceAdministrator(workspace: "acme"))),
        RepositoryCreator(behaviour: "nobody signed in does not", actor: { _ in .anonymous }, refusal: .accessDenied(.signInRequired)),
    ]
}

/// Who reads which audit log. acme's log holds a deployment key's addition; the whole log also rita's account key.
struct AuditReader: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var actor: @Sendable (Acme) -> Actor
    var workspace: String?
    /// The actions read, newest first; nil when refused.
    var actions: [AuditAction]?
    var refusal: GatehouseError?

    var testDescription: String { behaviour }

    static let workspaceLog: [AuditAction] = [.deployKeyAdded]
    static let wholeLog: [AuditAction] = [.accountKeyAdded, .deployKeyAdded]
    static let notAdministrator = GatehouseError.accessDenied(.notWorkspaceAdministrator(workspace: "acme"))

    static let all: [AuditReader] = [
        AuditReader(behaviour: "the owner reads the workspace's log", actor: { .user($0.olivia) }, workspace: "acme", actions: workspaceLog),
        AuditReader(behaviour: "a workspace admin reads the workspace's log", actor: { .user($0.adam) }, workspace: "acme", actions: workspaceLog),
        AuditReader(behaviour: "the operator reads the workspace's log", actor: { _ in .localOperator }, workspace: "acme", actions: workspaceLog),
        AuditReader(behaviour: "the operator reads the whole log", actor: { _ in .localOperator }, workspace: nil, actions: wholeLog),
        AuditReader(
            behaviour: "a member may not read the workspace's log", actor: { .user($0.rita) }, workspace: "acme",
            refusal: notAdministrator),
        AuditReader(
            behaviour: "a repository's administrator may not read the workspace's log", actor: { .user($0.ravi) }, workspace: "acme",
            refusal: notAdministrator),
        AuditReader(
            behaviour: "an outsider may not read the workspace's log", actor: { .user($0.sam) }, workspace: "acme",
            refusal: notAdministrator),
        AuditReader(
            behaviour: "nobody signed in may not read the workspace's log", actor: { _ in .anonymous }, workspace: "acme",
            refusal: .accessDenied(.signInRequired)),
        AuditReader(
            behaviour: "the owner may not read the whole log", actor: { .user($0.olivia) }, workspace: nil,
            refusal: .accessDenied(.signInRequired)),
    ]
}

/// Who can tell that a workspace exists: its members and whoever can read one of its repositories. Anyone else
/// gets, from every workspace operation, exactly the answer a workspace that does not exist gives.
struct WorkspaceSight: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var actor: @Sendable (Acme) -> Actor
    /// The repositories the caller lists in the workspace; nil when it cannot see the workspace.
    var listed: [String]?

    var testDescription: String { behaviour }

    static let all: [WorkspaceSight] = [
        WorkspaceSight(behaviour: "an outsider cannot tell it from a missing workspace", actor: { .user($0.sam) }, listed: nil),
        WorkspaceSight(behaviour: "nobody signed in cannot tell it from a missing workspace", actor: { _ in .anonymous }, listed: nil),
        WorkspaceSight(
            behaviour: "an outsider's token with every scope cannot either", actor: { .user($0.sam, scopes: .unlimited) }, listed: nil),
        WorkspaceSight(behaviour: "a member sees it, and is refused as a member", actor: { .user($0.mia) }, listed: []),
        WorkspaceSight(behaviour: "a reader of one of its repositories sees it", actor: { .user($0.rita) }, listed: ["hidden/vault"]),
    ]
}

@Suite("Directory service")
struct DirectoryServiceTests {
    @Test("a workspace seats its owner and as many members as its plan has seats, and refuses one more", arguments: 1...3)
    func seatLimit(_ seats: Int) async throws {
        try await withStore { store in
            let directory = DirectoryService(store: store, storage: TestStorage())
            _ = try await directory.addUser(username: "owner", email: "owner@example.com")
            var members: [User] = []
            for index in 1...seats {
                members.append(try await directory.addUser(username: "member\(index)", email: "member\(index)@example.com"))
            }
            let workspace = try await directory.addWorkspace(slug: "tiny", owner: "owner", seatLimit: seats)
            for member in members.dropLast() {
                try await directory.setMember(workspace: "tiny", username: member.username, role: .member)
            }

            await #expect(throws: GatehouseError.seatLimitReached(workspace: "tiny", limit: seats)) {
                try await directory.setMember(workspace: "tiny", username: "member\(seats)", role: .member)
            }

            #expect(try await store.directory.memberCount(of: workspace, on: store.db) == seats)
            #expect(try await store.directory.role(of: members[seats - 1].id, in: workspace, on: store.db) == nil)
        }
    }

    @Test("at the seat limit an existing member's role still changes, and deployment keys take no seat")
    func fullWorkspace() async throws {
        try await withStore { store in
            let directory = DirectoryService(store: store, storage: TestStorage())
            let owner = try await directory.addUser(username: "owner", email: "owner@example.com")
            let member = try await directory.addUser(username: "member", email: "member@example.com")
            _ = try await directory.addUser(username: "third", email: "third@example.com")
            let workspace = try await directory.addWorkspace(slug: "tiny", owner: "owner", seatLimit: 2)
            try await directory.setMember(workspace: "tiny", username: "member", role: .member)

            try await directory.setMember(workspace: "tiny", username: "member", role: .admin)

            #expect(try await store.directory.role(of: member.id, in: workspace, on: store.db) == .admin)
            _ = try await directory.createRepository("tiny/app", isPrivate: true)
            _ = try await KeyService(store: store).addDeployKey(actor: .user(owner), repositories: ["tiny/app"], label: "ci", keyText: ciKey.line)
            #expect(try await directory.deployKeyCount(actor: .user(owner), workspace: "tiny") == 1)
            #expect(try await store.directory.memberCount(of: workspace, on: store.db) == 2)
            await #expect(throws: GatehouseError.seatLimitReached(workspace: "tiny", limit: 2)) {
                try await directory.setMember(workspace: "tiny", username: "third", role: .member)
            }
        }
    }

    @Test("a workspace needs at least one seat, for its owner", arguments: [0, -1])
    func seatLimitBelowOne(_ seats: Int) async throws {
        try await withStore { store in
            let directory = DirectoryService(store: store, storage: TestStorage())
            _ = try await directory.addUser(username: "owner", email: "owner@example.com")
            let error = await #expect(throws: GatehouseError.self) {
                try await directory.addWorkspace(slug: "tiny", owner: "owner", seatLimit: seats)
            }
            #expect(error?.category == ErrorCategory.invalidInput)
            #expect(try await store.directory.workspace(slug: "tiny", on: store.db) == nil)
        }
    }

    @Test("a name is taken once: the second is refused, and the first stays as it was", arguments: Duplicate.all)
    func duplicate(_ duplicate: Duplicate) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let onDisk = acme.storage.createdRepositories

            let error = await #expect(throws: GatehouseError.self) { try await duplicate.create(acme.directory) }

            guard case .alreadyExists? = error else {
                Issue.record("expected alreadyExists, got \(String(describing: error))")
                return
            }
            #expect(acme.storage.createdRepositories == onDisk)
            #expect(try await acme.directory.requireUser("rita") == acme.rita)
            #expect(try await acme.directory.requireWorkspace("acme") == acme.workspace)
            #expect(try await acme.directory.requireRepository("acme/app") == acme.app)
        }
    }

    @Test("a repository whose directory cannot be created is not kept, and its name stays free")
    func storageFails() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let failing = DirectoryService(store: store, storage: TestStorage(fails: true))

            await #expect(throws: TestStorage.DiskFull()) { try await failing.createRepository("acme/broken", isPrivate: true) }

            let error = await #expect(throws: GatehouseError.self) { try await acme.directory.requireRepository("acme/broken") }
            #expect(error?.category == ErrorCategory.notFound)
            let all = try await acme.directory.visibleRepositories(actor: .localOperator)
            #expect(all.map(\.fullName) == ["acme/app", "acme/site", "acme/tools"])
            let created = try await acme.directory.createRepository("acme/broken", isPrivate: true)
            #expect(try await acme.directory.requireRepository("acme/broken") == created)
            #expect(acme.storage.createdRepositories.last == "acme/broken")
        }
    }

    @Test("each actor sees the repositories it may read", arguments: Visibility.all)
    func visibleRepositories(_ row: Visibility) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let inWorkspace = try await acme.directory.visibleRepositories(actor: row.actor(acme), workspace: "acme")
            let everywhere = try await acme.directory.visibleRepositories(actor: row.actor(acme))
            #expect(inWorkspace.map(\.fullName) == row.visible)
            #expect(everywhere.map(\.fullName) == row.visible)
        }
    }

    @Test("a workspace the caller cannot see answers every operation like a missing one", arguments: WorkspaceSight.all)
    func hiddenWorkspace(_ row: WorkspaceSight) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            _ = try await acme.directory.addWorkspace(slug: "hidden", owner: "olivia", seatLimit: 5)
            try await acme.directory.setMember(workspace: "hidden", username: "mia", role: .member)
            _ = try await acme.directory.createRepository("hidden/vault", isPrivate: true)
            try await acme.directory.grant(repository: "hidden/vault", username: "rita", level: .read)
            let actor = row.actor(acme)
            let keys = KeyService(store: store)
            let registrations = RegistrationService(store: store, keys: keys)
            let operations: [(String, @Sendable (String) async throws -> Void)] = [
                ("list its repositories", { _ = try await acme.directory.visibleRepositories(actor: actor, workspace: $0) }),
                ("create a repository", { _ = try await acme.directory.createRepository(actor: actor, workspace: $0, slug: "new", isPrivate: true) }),
                ("read its audit log", { _ = try await acme.directory.auditLog(actor: actor, workspace: $0, window: ListWindow(offset: 0, limit: 10)) }),
                ("count its keys", { _ = try await acme.directory.deployKeyCount(actor: actor, workspace: $0) }),
                (
                    "add a workspace key",
                    { _ = try await keys.addWorkspaceDeployKey(actor: actor, workspace: $0, label: "ci", keyText: ciKey.line, selector: .all) }
                ),
                ("make a registration token", { _ = try await registrations.create(actor: actor, workspace: $0, selector: .all) }),
                ("find a key in it", { _ = try await keys.usage(actor: actor, fingerprint: ciKey.fingerprint, workspace: $0) }),
            ]
            for (name, operation) in operations {
                let missing = await Self.outcome { try await operation("nowhere") }
                let hidden = await Self.outcome { try await operation("hidden") }
                if row.listed == nil {
                    #expect(hidden.hasPrefix("notFound"), "\(name): \(hidden)")
                    #expect(hidden == missing.replacingOccurrences(of: "nowhere", with: "hidden"), "\(name)")
                } else {
                    #expect(!hidden.hasPrefix("notFound"), "\(name): \(hidden)")
                }
            }
            if let listed = row.listed {
                #expect(try await acme.directory.visibleRepositories(actor: actor, workspace: "hidden").map(\.fullName) == listed)
            }
        }
    }

    /// "ok", or the refusal's category and message.
    static func outcome(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "ok"
        } catch {
            let error = GatehouseError(error)
            return "\(error.category): \(error.description)"
        }
    }

    @Test("a token without a repository scope lists no repositories: it is refused")
    func visibleRepositoriesNeedScope() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            await #expect(throws: GatehouseError.accessDenied(.missingScope(.repository))) {
                try await acme.directory.visibleRepositories(actor: .user(acme.olivia, scopes: TokenScopes([.account])), workspace: "acme")
            }
        }
    }

    @Test("workspace administrators create repositories; others are refused and nothing is made", arguments: RepositoryCreator.all)
    func createRepository(_ row: RepositoryCreator) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let onDisk = acme.storage.createdRepositories
            if let refusal = row.refusal {
                await #expect(throws: refusal) {
                    try await acme.directory.createRepository(actor: row.actor(acme), workspace: "acme", slug: "new", isPrivate: true)
                }
                #expect(acme.storage.createdRepositories == onDisk)
                #expect(try await store.directory.repository(RepositoryPath(workspace: "acme", repository: "new"), on: store.db) == nil)
            } else {
                let created = try await acme.directory.createRepository(actor: row.actor(acme), workspace: "acme", slug: "new", isPrivate: true)
                #expect(created.fullName == "acme/new" && created.isPrivate)
                #expect(acme.storage.createdRepositories == onDisk + ["acme/new"])
                #expect(try await acme.directory.requireRepository("acme/new") == created)
            }
        }
    }

    @Test("a workspace's audit log is for its administrators, the whole log for the operator", arguments: AuditReader.all)
    func auditLog(_ row: AuditReader) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            _ = try await KeyService(store: store, clock: { referenceTime })
                .addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            _ = try await KeyService(store: store, clock: { referenceTime.addingTimeInterval(60) })
                .addAccountKey(actor: .user(acme.rita), username: "rita", label: "laptop", keyText: laptopKey.line)

            if let refusal = row.refusal {
                await #expect(throws: refusal) {
                    try await acme.directory.auditLog(actor: row.actor(acme), workspace: row.workspace, window: ListWindow(offset: 0, limit: 10))
                }
            } else {
                let log = try await acme.directory.auditLog(actor: row.actor(acme), workspace: row.workspace, window: ListWindow(offset: 0, limit: 10))
                #expect(log.items.map(\.action) == row.actions)
                #expect(log.total == row.actions?.count)
            }
        }
    }

    @Test("the audit log pages newest first, with the total of every page")
    func auditLogPages() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let labels = ["first", "second", "third"]
            for (index, label) in labels.enumerated() {
                _ = try await KeyService(store: store, clock: { referenceTime.addingTimeInterval(Double(index)) })
                    .addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: label, keyText: TestKey(seed: 10 + UInt8(index)).line)
            }
            let page = try await acme.directory.auditLog(actor: .user(acme.adam), workspace: "acme", window: ListWindow(offset: 1, limit: 1))
            #expect(page.total == 3)
            #expect(page.items.count == 1 && page.hasMore)
            #expect(page.items.first?.detail.contains("\"second\"") == true)
        }
    }
}
