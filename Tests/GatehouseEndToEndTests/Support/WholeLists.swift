import GatehouseCore

extension KeyService {
    /// Every deployment key of a repository, for tests that look at all of them.
    func listDeployKeys(actor: Actor, repository: String) async throws -> [DeployKey] {
        try await listDeployKeys(actor: actor, repository: repository, window: .whole).items
    }
}
