import Foundation
import GatehouseCore
import Synchronization
import Testing

/// A clock the test moves.
final class TestClock: Sendable {
    private let now = Mutex(referenceTime)
    var date: Date { now.withLock { $0 } }
    func advance(_ seconds: TimeInterval) { now.withLock { $0 = $0.addingTimeInterval(seconds) } }
}

@Suite("Rotation with overlap")
struct RotationTests {
    @Test("rotation across 200 repositories and the workspace: both keys work during the overlap, the old one is gone after it, once")
    func rotateEverywhere() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let clock = TestClock()
            let keys = KeyService(store: store, clock: { clock.date })
            let access = AccessService(store: store, clock: { clock.date })
            for index in 0..<200 { _ = try await acme.directory.createRepository("acme/r\(index)", isPrivate: true) }
            let tagRule = try RefRule(parsing: "refs/tags/v*:create")
            _ = try await keys.attach(
                actor: .localOperator, workspace: "acme", repositories: ["r*"], label: "jenkins", keyText: ciKey.line,
                permission: try KeyPermission(access: .write, rules: [tagRule]))
            _ = try await keys.addWorkspaceDeployKey(
                actor: .localOperator, workspace: "acme", label: "fleet", keyText: ciKey.line, selector: try RepositorySelector(parsing: "web-*"))

            let rotation = try await keys.rotate(
                actor: .user(acme.olivia), workspace: "acme", oldFingerprint: ciKey.fingerprint, newKeyText: laptopKey.line, overlap: 86_400)
            #expect(rotation.steps.count == 201 && rotation.steps.allSatisfy(\.created))
            #expect(rotation.oldRemovedAt == referenceTime.addingTimeInterval(86_400))

            func grants(_ key: TestKey) async throws -> [DeployKeyGrant] {
                guard case .deployKey(let principal) = try await access.principal(fingerprint: key.fingerprint) else { return [] }
                return principal.grants
            }
            let old = try await grants(ciKey)
            let new = try await grants(laptopKey)
            #expect(old.count == 201 && new.count == 201, "both keys work during the overlap")
            #expect(new.filter { $0.label == "jenkins" }.allSatisfy { $0.access == .write && $0.refRules == [tagRule] })
            #expect(new.contains { $0.label == "fleet" && $0.scope.name == "workspace acme (web-*)" })

            clock.advance(3600)
            #expect(try await keys.finishRotations() == 0, "not yet due")
            clock.advance(86_400)
            #expect(try await keys.finishRotations() == 1)
            #expect(try await keys.finishRotations() == 0, "exactly once")
            #expect(try await access.principal(fingerprint: ciKey.fingerprint) == nil)
            #expect(try await store.keys.key(fingerprint: ciKey.fingerprint, on: store.db) == nil, "the old key row goes with its last attachment")
            #expect(try await grants(laptopKey).count == 201)
            let finished = try await acme.pendingMail().filter { $0.mail.subject.contains("removed from acme after rotation") }
            #expect(Set(finished.map(\.mail.to)) == ["olivia@example.com", "adam@example.com"] && finished.count == 2, "one mail per administrator")
            #expect(try await acme.auditCount(.keyRotated) == 201)
        }
    }

    @Test("rotation refuses what it cannot do, and changes nothing")
    func refusals() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store, clock: { referenceTime })
            _ = try await keys.addDeployKey(actor: .localOperator, repositories: ["acme/app", "acme/tools"], label: "ci", keyText: ciKey.line)
            _ = try await KeyService(store: store).addAccountKey(actor: .localOperator, username: "sam", label: "laptop", keyText: laptopKey.line)
            let before = try await acme.traces()
            await #expect(throws: GatehouseError.keyIsAccountKey) {
                _ = try await keys.rotate(actor: .localOperator, workspace: "acme", oldFingerprint: ciKey.fingerprint, newKeyText: laptopKey.line, overlap: 0)
            }
            // ravi administers acme/app but cannot see acme/tools: the key is "not found" for him, acme/tools is not named.
            await #expect {
                _ = try await keys.rotate(actor: .user(acme.ravi), workspace: "acme", oldFingerprint: ciKey.fingerprint, newKeyText: otherKey.line, overlap: 0)
            } throws: { error in
                (error as? GatehouseError)?.category == .notFound && !"\(error)".contains("acme/tools")
            }
            // rita reads acme/app but does not administer it: named, since she can see it.
            await #expect(throws: GatehouseError.accessDenied(.notAdministrator(repository: "acme/app"))) {
                _ = try await keys.rotate(actor: .user(acme.rita), workspace: "acme", oldFingerprint: ciKey.fingerprint, newKeyText: otherKey.line, overlap: 0)
            }
            await #expect(throws: GatehouseError.self) {
                _ = try await keys.rotate(actor: .localOperator, workspace: "acme", oldFingerprint: otherKey.fingerprint, newKeyText: ciKey.line, overlap: 0)
            }
            #expect(try await acme.traces() == before)
            // No overlap: the old key is gone at once.
            _ = try await keys.rotate(actor: .localOperator, workspace: "acme", oldFingerprint: ciKey.fingerprint, newKeyText: otherKey.line, overlap: 0)
            #expect(try await store.keys.key(fingerprint: ciKey.fingerprint, on: store.db) == nil)
            #expect(try await acme.attachments(on: acme.app).map(\.key.fingerprint) == [otherKey.fingerprint])
        }
    }
}
