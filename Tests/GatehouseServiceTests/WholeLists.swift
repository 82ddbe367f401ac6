import GatehouseCore

extension DirectoryService {
    /// Every repository of a workspace the actor may read, for tests that look at all of them.
    func visibleRepositories(actor: Actor, workspace: String) async throws -> [Repository] {
        try await visibleRepositories(actor: actor, workspace: workspace, window: .whole).items
    }
}
