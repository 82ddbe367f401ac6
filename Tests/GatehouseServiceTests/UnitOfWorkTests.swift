import Foundation
import GatehouseCore
import Testing

/// A change is its row, its audit entry and its notices, written together: a failure half-way leaves nothing behind.
@Suite("A failure half-way leaves nothing behind")
struct UnitOfWorkTests {
    @Test("a deployment key refused by its second repository is attached to neither, audited nowhere and announced to nobody")
    func deployKeyRefusedHalfWay() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            let onTools = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/tools"], label: "ci", keyText: ciKey.line)
            let before = try await acme.traces()
            let auditBefore = try await store.audit.count(workspace: nil, upTo: .max, on: store.db)
            let mailBefore = try await store.outbox.count(status: .pending, on: store.db)

            // acme/app comes first and is attached inside the transaction before acme/tools refuses.
            await #expect(throws: GatehouseError.keyAlreadyOnRepository("acme/tools")) {
                try await keys.addDeployKey(
                    actor: .user(acme.olivia), repositories: ["acme/app", "acme/tools"], label: "both",
                    keyText: ciKey.line)
            }

            #expect(try await store.keys.deployKeys(.repository(acme.app.id), on: store.db).isEmpty)
            #expect(try await store.keys.deployKeys(.repository(acme.tools.id), on: store.db).map(\.id) == onTools.map(\.id))
            #expect(try await store.audit.count(workspace: nil, upTo: .max, on: store.db) == auditBefore)
            #expect(try await store.outbox.count(status: .pending, on: store.db) == mailBefore)
            #expect(try await acme.traces() == before)
        }
    }

    @Test("a new deployment key refused for one of its repositories is stored for none")
    func newKeyRefusedForOne() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            // ravi administers acme/app but may not see acme/tools: all the attachments are made, or none.
            await #expect(throws: GatehouseError.accessDenied(.notFound("acme/tools"))) {
                try await keys.addDeployKey(actor: .user(acme.ravi), repositories: ["acme/app", "acme/tools"], label: "ci", keyText: otherKey.line)
            }
            #expect(try await store.keys.key(fingerprint: otherKey.fingerprint, on: store.db) == nil)
            #expect(try await acme.attachments(on: acme.app).isEmpty)
        }
    }

    @Test("an account key refused because it is a deployment key leaves no key, no audit entry and no mail")
    func accountKeyRefused() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store)
            _ = try await keys.addDeployKey(actor: .user(acme.olivia), repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            let auditBefore = try await store.audit.count(workspace: nil, upTo: .max, on: store.db)
            let mailBefore = try await store.outbox.count(status: .pending, on: store.db)

            await #expect(throws: GatehouseError.keyIsDeployKey) {
                try await keys.addAccountKey(actor: .user(acme.olivia), username: "olivia", label: "laptop", keyText: ciKey.line)
            }

            #expect(try await store.keys.accountKeys(of: acme.olivia.id, on: store.db).isEmpty)
            #expect(try await store.audit.count(workspace: nil, upTo: .max, on: store.db) == auditBefore)
            #expect(try await store.outbox.count(status: .pending, on: store.db) == mailBefore)
            let stored = try await store.keys.key(fingerprint: ciKey.fingerprint, on: store.db)
            #expect(stored?.kind == KeyKind.deploy)
        }
    }

    @Test("a transaction that throws after writing commits none of its writes")
    func transactionRollsBack() async throws {
        struct Abandoned: Error {}
        try await withStore { store in
            let acme = try await Acme(store: store)
            let before = try await acme.traces()
            let workspaceID = acme.workspace.id
            await #expect(throws: Abandoned.self) {
                try await store.transaction { tx in
                    try await store.audit.append(
                        AuditEntry(
                            at: referenceTime, actor: "operator", action: .deployKeyAdded, object: "acme/app",
                            detail: "half-way", sourceIP: nil, workspaceID: workspaceID), on: tx)
                    try await store.outbox.enqueue(
                        OutgoingMail(to: "olivia@example.com", subject: "half-way", body: "half-way"),
                        at: referenceTime, on: tx)
                    throw Abandoned()
                }
            }
            #expect(try await acme.traces() == before)
        }
    }
}
