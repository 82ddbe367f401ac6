import Foundation
import GatehouseCore
import Testing

/// A change to keys that a rule refuses: `setUp` succeeds, then `attempt` throws `refusal`.
struct KeyRule: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var refusal: GatehouseError
    var setUp: @Sendable (Acme, KeyService) async throws -> Void = { _, _ in }
    var attempt: @Sendable (Acme, KeyService) async throws -> Void

    var testDescription: String { behaviour }

    static let all: [KeyRule] = [
        KeyRule(
            behaviour: "another person's account key added as a deployment key is only \"already registered\"", refusal: .keyAlreadyRegistered,
            setUp: { acme, keys in
                _ = try await keys.addAccountKey(actor: .user(acme.rita), username: "rita", label: "laptop", keyText: ciKey.line)
            },
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "one's own account key cannot also be a deployment key, and the refusal says why", refusal: .keyIsAccountKey,
            setUp: { acme, keys in
                _ = try await keys.addAccountKey(actor: .user(acme.olivia), username: "olivia", label: "laptop", keyText: ciKey.line)
            },
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "a deployment key of a repository one does not administer, added as an account key, is only \"already registered\"",
            refusal: .keyAlreadyRegistered,
            setUp: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            },
            attempt: { acme, keys in
                _ = try await keys.addAccountKey(actor: .user(acme.rita), username: "rita", label: "laptop", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "a deployment key one administers cannot also be one's account key, and the refusal says why", refusal: .keyIsDeployKey,
            setUp: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            },
            attempt: { acme, keys in
                _ = try await keys.addAccountKey(actor: .user(acme.adam), username: "adam", label: "laptop", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "an authority trusted where one administers nothing, added as a deployment key, is only \"already registered\"",
            refusal: .keyAlreadyRegistered,
            setUp: { acme, keys in
                _ = try await keys.addDeployKey(
                    actor: .localOperator, repositories: ["acme/tools"], label: "ca", keyText: ciKey.line, certificatePrincipals: ["ci"])
            },
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.ravi), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "a key is on a repository once, whoever adds it again", refusal: .keyAlreadyOnRepository("acme/app"),
            setUp: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            },
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.adam), repositories: ["acme/app"], label: "again", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "an account key is registered once", refusal: .keyAlreadyRegistered,
            setUp: { acme, keys in
                _ = try await keys.addAccountKey(actor: .user(acme.rita), username: "rita", label: "laptop", keyText: laptopKey.line)
            },
            attempt: { acme, keys in
                _ = try await keys.addAccountKey(actor: .user(acme.rita), username: "rita", label: "again", keyText: laptopKey.line)
            }),
        KeyRule(
            behaviour: "another person's account key cannot be registered to a second account", refusal: .keyAlreadyRegistered,
            setUp: { acme, keys in
                _ = try await keys.addAccountKey(actor: .user(acme.rita), username: "rita", label: "laptop", keyText: laptopKey.line)
            },
            attempt: { acme, keys in
                _ = try await keys.addAccountKey(actor: .user(acme.mia), username: "mia", label: "mine", keyText: laptopKey.line)
            }),
        KeyRule(
            behaviour: "an outsider adding a deployment key to a private repository finds nothing",
            refusal: .accessDenied(.notFound("acme/app")),
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.sam), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "a reader of a repository is not its administrator",
            refusal: .accessDenied(.notAdministrator(repository: "acme/app")),
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.rita), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "a member reading a public repository is not its administrator",
            refusal: .accessDenied(.notAdministrator(repository: "acme/site")),
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.mia), repositories: ["acme/site"], label: "ci", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "administering one repository gives nothing on another, even named together",
            refusal: .accessDenied(.notFound("acme/tools")),
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(
                    actor: .user(acme.ravi), repositories: ["acme/app", "acme/tools"], label: "ci",
                    keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "a repository that does not exist is not found, as the caller named it",
            refusal: .accessDenied(.notFound("acme/nope")),
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/nope"], label: "ci", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "nobody signed in cannot add a deployment key, even to a public repository",
            refusal: .accessDenied(.signInRequired),
            attempt: { _, keys in
                _ = try await keys.addDeployKey(actor: .anonymous, repositories: ["acme/site"], label: "ci", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "an owner's token without repository:admin cannot add a deployment key",
            refusal: .accessDenied(.missingScope(.repositoryAdmin)),
            attempt: { acme, keys in
                _ = try await keys.addDeployKey(
                    actor: .user(acme.olivia, scopes: TokenScopes([.repositoryWrite, .accountWrite])),
                    repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            }),
        KeyRule(
            behaviour: "nobody adds keys to another person's account, which looks unknown",
            refusal: .accessDenied(.accountNotFound("rita")),
            attempt: { acme, keys in
                _ = try await keys.addAccountKey(actor: .user(acme.sam), username: "rita", label: "sneaky", keyText: laptopKey.line)
            }),
    ]
}

@Suite("Key service")
struct KeyServiceTests {
    @Test("a removed deployment key's id is never given to another key, on a repository or a workspace")
    func idsNeverReused() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            let olivia = Actor.user(acme.olivia)
            let first = try await keys.addDeployKey(actor: olivia, repositories: ["acme/app"], label: "old", keyText: ciKey.line)[0]
            try await keys.removeDeployKey(actor: olivia, repository: "acme/app", id: first.id)
            let second = try await keys.addDeployKey(actor: olivia, repositories: ["acme/app"], label: "new", keyText: otherKey.line)[0]
            #expect(second.id > first.id)

            let fleet = try await keys.addWorkspaceDeployKey(actor: olivia, workspace: "acme", label: "old", keyText: ciKey.line, selector: .all)
            try await keys.removeWorkspaceDeployKey(actor: olivia, workspace: "acme", id: fleet.id)
            let next = try await keys.addWorkspaceDeployKey(actor: olivia, workspace: "acme", label: "new", keyText: laptopKey.line, selector: .all)
            #expect(next.id > fleet.id)
        }
    }

    @Test("adding a deployment key attaches it, audits it once and tells each administrator of the repository")
    func addDeployKey() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            let before = try await acme.traces()

            let added = try await keys.addDeployKey(
                actor: .user(acme.adam), repositories: ["acme/app"], label: "  ci  ", keyText: ciKey.line,
                sourceIP: "192.0.2.7")

            let deployKey = try #require(added.first)
            #expect(added.count == 1)
            #expect(deployKey.repository == acme.app)
            #expect(deployKey.label == "ci")
            #expect(deployKey.key.kind == .deploy)
            #expect(deployKey.key.fingerprint == ciKey.fingerprint)
            #expect(deployKey.access == .read)
            #expect(deployKey.addedBy == "adam")
            #expect(try await acme.attachments(on: acme.app) == added)

            let audit = try await acme.auditEntries()
            #expect(audit.count == before.auditEntries + 1)
            let entry = try #require(audit.first)
            #expect(entry.action == .deployKeyAdded)
            #expect(entry.actor == "adam")
            #expect(entry.object == "acme/app")
            #expect(entry.workspaceID == acme.workspace.id)
            #expect(entry.sourceIP == "192.0.2.7")
            #expect(entry.detail.contains(ciKey.fingerprint))

            // Administrators: the owner, the workspace admin, and ravi through his explicit permission; not rita or mia.
            let mail = try await acme.pendingMail()
            #expect(mail.count == before.pendingMail + 3)
            let administrators: Set<String> = ["olivia@example.com", "adam@example.com", "ravi@example.com"]
            #expect(Set(mail.map(\.mail.to)) == administrators)
            #expect(mail.allSatisfy { $0.mail.subject.contains("acme/app") && $0.mail.body.contains(ciKey.fingerprint) })
        }
    }

    @Test("one key attached to two repositories makes two attachments with their own ids, of one stored key")
    func oneKeyTwoRepositories() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            let before = try await acme.traces()

            let added = try await keys.addDeployKey(
                actor: .user(acme.olivia), repositories: ["acme/app", "acme/tools"], label: "ci",
                keyText: ciKey.line)

            #expect(added.count == 2)
            #expect(Set(added.map(\.id)).count == 2)
            #expect(Set(added.map(\.key.id)).count == 1)
            #expect(added.map(\.repository.fullName).sorted() == ["acme/app", "acme/tools"])
            #expect(try await acme.attachments(on: acme.app).map(\.id) == added.filter { $0.repository == acme.app }.map(\.id))
            #expect(try await acme.attachments(on: acme.tools).map(\.id) == added.filter { $0.repository == acme.tools }.map(\.id))
            let after = try await acme.traces()
            #expect(after.auditEntries == before.auditEntries + 2)
            // acme/app has three administrators, acme/tools two (the workspace's owner and admin).
            #expect(after.pendingMail == before.pendingMail + 5)
        }
    }

    @Test("a later attachment of a deployment key reuses the stored key", arguments: [["acme/tools"], ["acme/site", "acme/tools"]])
    func laterAttachment(_ more: [String]) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            let first = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            let later = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: more, label: "ci", keyText: ciKey.line)
            #expect(later.count == more.count)
            #expect(later.allSatisfy { $0.key.id == first[0].key.id })
            #expect(Set((first + later).map(\.id)).count == 1 + more.count)
        }
    }

    @Test("each key rule refuses the change, and the refusal leaves nothing behind", arguments: KeyRule.all)
    func rule(_ rule: KeyRule) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            try await rule.setUp(acme, keys)
            let before = try await acme.traces()

            await #expect(throws: rule.refusal) { try await rule.attempt(acme, keys) }

            #expect(try await acme.traces() == before)
        }
    }

    @Test("renaming a deployment key changes its label and nothing else, and is audited")
    func rename() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            let id = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)[0].id
            let before = try #require(try await acme.attachments(on: acme.app).first)

            let renamed = try await keys.renameDeployKey(
                actor: .user(acme.ravi), repository: "acme/app", id: id, label: " build server ",
                keyText: ciKey.line)

            var expected = before
            expected.label = "build server"
            #expect(renamed == expected)
            #expect(try await acme.attachments(on: acme.app) == [expected])
            #expect(try await acme.auditCount(.deployKeyRenamed) == 1)
            let entry = try #require(try await acme.auditEntries().first(where: { $0.action == .deployKeyRenamed }))
            #expect(entry.actor == "ravi" && entry.object == "acme/app")
        }
    }

    @Test("a deployment key's key cannot be swapped by a rename; nothing changes")
    func renameWithAnotherKey() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            let id = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)[0].id
            let before = try await acme.traces()

            await #expect(throws: GatehouseError.keyCannotChange) {
                try await keys.renameDeployKey(actor: .user(acme.olivia), repository: "acme/app", id: id, label: "swapped", keyText: otherKey.line)
            }

            let stored = try #require(try await acme.attachments(on: acme.app).first)
            #expect(stored.label == "ci" && stored.key.fingerprint == ciKey.fingerprint)
            #expect(try await acme.traces() == before)
        }
    }

    /// Removing one attachment; the stored key goes only with its last attachment.
    struct Removal: Sendable, CustomTestStringConvertible {
        var attachedTo: [String]
        var keyRemains: Bool
        var testDescription: String { "attached to \(attachedTo.joined(separator: " and ")), removed from acme/app" }
    }

    @Test(
        "removing a deployment key detaches it, audits it, and deletes the key when nothing else uses it",
        arguments: [
            Removal(attachedTo: ["acme/app"], keyRemains: false),
            Removal(attachedTo: ["acme/app", "acme/tools"], keyRemains: true),
        ])
    func remove(_ removal: Removal) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            let added = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: removal.attachedTo, label: "ci", keyText: ciKey.line)
            let onApp = try #require(added.first(where: { $0.repository == acme.app }))

            try await keys.removeDeployKey(actor: .user(acme.adam), repository: "acme/app", id: onApp.id)

            #expect(try await acme.attachments(on: acme.app).isEmpty)
            #expect(try await acme.auditCount(.deployKeyRemoved) == 1)
            let stored = try await store.keys.key(fingerprint: ciKey.fingerprint, on: store.db)
            #expect((stored != nil) == removal.keyRemains)
            let elsewhere = try await acme.attachments(on: acme.tools)
            #expect(elsewhere.map(\.id) == added.filter { $0.repository == acme.tools }.map(\.id))
        }
    }

    @Test("a reader cannot remove a repository's deployment key; it stays")
    func removeByReader() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            let id = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)[0].id

            await #expect(throws: GatehouseError.accessDenied(.notAdministrator(repository: "acme/app"))) {
                try await keys.removeDeployKey(actor: .user(acme.rita), repository: "acme/app", id: id)
            }

            #expect(try await acme.attachments(on: acme.app).map(\.id) == [id])
            #expect(try await acme.auditCount(.deployKeyRemoved) == 0)
        }
    }

    @Test("adding an account key stores it for its owner, audits it and tells the owner")
    func addAccountKey() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store, clock: { referenceTime })
            let before = try await acme.traces()

            let (owner, key) = try await keys.addAccountKey(actor: .user(acme.rita), username: "rita", label: "laptop", keyText: laptopKey.line)

            #expect(owner == acme.rita)
            #expect(key.kind == .account && key.userID == acme.rita.id && key.label == "laptop")
            #expect(key.fingerprint == laptopKey.fingerprint)
            #expect(key.createdAt == referenceTime)
            #expect(try await store.keys.accountKeys(of: acme.rita.id, on: store.db).map(\.id) == [key.id])
            let after = try await acme.traces()
            #expect(after.auditEntries == before.auditEntries + 1)
            #expect(try await acme.auditCount(.accountKeyAdded) == 1)
            #expect(try await acme.pendingMail().map(\.mail.to) == ["rita@example.com"])
        }
    }
}
