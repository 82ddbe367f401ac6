import Foundation
import GatehouseCore
import Testing

@Suite("Registration tokens: one thing, a bounded number of times, atomically")
struct RegistrationServiceTests {
    @Test("two machines racing for the last use: exactly one registers, the other is told the token is used up")
    func racingForTheLastUse() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let registrations = RegistrationService(store: store, keys: KeyService(store: store))
            let (_, secret) = try await registrations.create(actor: .user(acme.olivia), workspace: "acme", selector: .all, uses: 1)
            @Sendable func attempt(_ key: TestKey, _ label: String) async -> Result<WorkspaceDeployKey, any Error> {
                do {
                    return .success(try await registrations.register(secret: secret, workspace: "acme", keyText: key.line, label: label, sourceIP: nil))
                } catch {
                    return .failure(error)
                }
            }
            async let first = attempt(ciKey, "a")
            async let second = attempt(laptopKey, "b")
            let results = await [first, second]
            #expect(results.filter { (try? $0.get()) != nil }.count == 1)
            let refusal = results.compactMap { result -> GatehouseError? in
                if case .failure(let error) = result { return error as? GatehouseError }
                return nil
            }
            #expect(refusal.first?.description.contains("used as often as it allows") == true, "\(refusal)")
            #expect(try await store.keys.workspaceDeployKeys(.workspace(acme.workspace.id), on: store.db).count == 1)
        }
    }

    @Test("an expired token, another workspace's token and an unknown one register nothing")
    func refusedTokens() async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            let past = RegistrationService(store: store, keys: KeyService(store: store), clock: { Date().addingTimeInterval(-7200) })
            let (_, expired) = try await past.create(actor: .localOperator, workspace: "acme", selector: .all, lifetime: 3600)
            let registrations = RegistrationService(store: store, keys: KeyService(store: store))
            await #expect(throws: GatehouseError.self) {
                _ = try await registrations.register(secret: expired, workspace: "acme", keyText: ciKey.line, label: "a", sourceIP: nil)
            }
            do {
                _ = try await registrations.register(secret: expired, workspace: "acme", keyText: ciKey.line, label: "a", sourceIP: nil)
            } catch let error as GatehouseError {
                #expect(error.description.contains("expired"), "\(error)")
            }
            _ = try await acme.directory.addWorkspace(slug: "other", owner: "sam", seatLimit: 2)
            let (_, elsewhere) = try await registrations.create(actor: .localOperator, workspace: "other", selector: .all)
            await #expect(throws: GatehouseError.accessDenied(.unknownRegistrationToken)) {
                _ = try await registrations.register(secret: elsewhere, workspace: "acme", keyText: ciKey.line, label: "a", sourceIP: nil)
            }
            await #expect(throws: GatehouseError.accessDenied(.unknownRegistrationToken)) {
                _ = try await registrations.register(secret: "ghr_unknown", workspace: "acme", keyText: ciKey.line, label: "a", sourceIP: nil)
            }
            await #expect(throws: GatehouseError.accessDenied(.notWorkspaceAdministrator(workspace: "acme"))) {
                _ = try await registrations.create(actor: .user(acme.rita), workspace: "acme", selector: .all)
            }
            #expect(try await store.keys.workspaceDeployKeys(.workspace(acme.workspace.id), on: store.db).isEmpty)
        }
    }
}
