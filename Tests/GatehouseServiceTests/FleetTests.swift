import Foundation
import GatehouseCore
import Testing

/// Keys at fleet scale: where one key is (as far as the caller administers), and one key on many repositories at once.
@Suite("Fleet: where a key is, bulk attach")
struct FleetTests {
    @Test("where a key is: every attachment the caller administers, nothing of other repositories or workspaces")
    func usageIsScoped() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store, clock: { referenceTime })
            _ = try await keys.addDeployKey(actor: .localOperator, repositories: ["acme/app", "acme/tools"], label: "ci", keyText: ciKey.line)
            _ = try await keys.addWorkspaceDeployKey(actor: .localOperator, workspace: "acme", label: "ci-ws", keyText: ciKey.line, selector: .all)

            let everything = try await keys.usage(actor: .localOperator, fingerprint: ciKey.fingerprint)
            #expect(everything.repositoryAttachments.map(\.repository.fullName) == ["acme/app", "acme/tools"])
            #expect(everything.workspaceAttachments.map(\.label) == ["ci-ws"])
            // ravi administers acme/app only: he sees that attachment, not acme/tools and not the workspace's.
            let ravi = try await keys.usage(actor: .user(acme.ravi), fingerprint: ciKey.fingerprint)
            #expect(ravi.repositoryAttachments.map(\.repository.fullName) == ["acme/app"] && ravi.workspaceAttachments.isEmpty)
            let sam = try await keys.usage(actor: .user(acme.sam), fingerprint: ciKey.fingerprint)
            let unknown = try await keys.usage(actor: .user(acme.sam), fingerprint: otherKey.fingerprint)
            #expect(sam.repositoryAttachments.isEmpty && sam.workspaceAttachments.isEmpty)
            #expect(unknown.repositoryAttachments.isEmpty && unknown.workspaceAttachments.isEmpty, "an unknown key looks the same")
        }
    }

    @Test("bulk attach: slugs and globs in one unit of work; a repository that has the key is reported with its attachment")
    func bulkAttach() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store, clock: { referenceTime })
            let first = try await keys.addDeployKey(actor: .localOperator, repositories: ["acme/app"], label: "ci", keyText: ciKey.line)
            let outcomes = try await keys.attach(
                actor: .user(acme.olivia), workspace: "acme", repositories: ["app", "t*", "site"], label: "ci", keyText: ciKey.line)
            #expect(outcomes.map(\.deployKey.repository.fullName) == ["acme/app", "acme/tools", "acme/site"])
            #expect(outcomes.map(\.created) == [false, true, true])
            #expect(outcomes.first?.deployKey.id == first.first?.id)
            #expect(try await acme.auditCount(.deployKeyAdded) == 3)
        }
    }

    @Test("bulk attach by a caller who does not administer every repository named changes nothing and names the first")
    func bulkAttachAllOrNothing() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let keys = KeyService(store: store, clock: { referenceTime })
            let before = try await acme.traces()
            // ravi administers acme/app but only sees acme/site (public) and not acme/tools (private).
            await #expect(throws: GatehouseError.accessDenied(.notAdministrator(repository: "acme/site"))) {
                _ = try await keys.attach(actor: .user(acme.ravi), workspace: "acme", repositories: ["app", "site"], label: "ci", keyText: ciKey.line)
            }
            await #expect(throws: GatehouseError.accessDenied(.notFound("acme/tools"))) {
                _ = try await keys.attach(actor: .user(acme.ravi), workspace: "acme", repositories: ["app", "tools"], label: "ci", keyText: ciKey.line)
            }
            // A glob never reaches what the caller cannot see: t* matches nothing for ravi.
            await #expect(throws: GatehouseError.self) {
                _ = try await keys.attach(actor: .user(acme.ravi), workspace: "acme", repositories: ["t*"], label: "ci", keyText: ciKey.line)
            }
            #expect(try await acme.traces() == before)
        }
    }
}
