import Foundation
import GatehouseCore

/// The API's representations for the CLI's `--json`: the same fields the API answers with, so that one parser
/// reads both. Links are relative to the server (the CLI does not know the address clients use).
public enum CommandLineJSON {
    public static func keyUsage(_ usage: KeyUsage) -> String { text(KeyUsageJSON(usage, base: "")) }
    public static func users(_ users: [User]) -> String { text(users.map { UserJSON($0, base: "") }) }
    public static func repositories(_ repositories: [Repository]) -> String { text(repositories.map { RepositoryJSON($0, base: "") }) }
    public static func auditEntries(_ entries: [AuditEntry]) -> String { text(entries.map(AuditEntryJSON.init)) }

    public static func deployKey(_ key: DeployKey) -> String { text(DeployKeyJSON(key, base: "")) }
    public static func workspaceDeployKey(_ key: WorkspaceDeployKey) -> String { text(WorkspaceDeployKeyJSON(key, base: "")) }
    public static func accountKey(_ key: StoredKey, owner: User) -> String { text(SSHKeyJSON(key, owner: owner, base: "")) }

    /// Values that have no API representation (tokens, the outbox), encoded with the API's date format.
    public static func encode(_ value: some Encodable) -> String { text(value) }

    private static func text(_ value: some Encodable) -> String {
        // Encoding our own value types cannot fail.
        String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    private static let encoder = JSON.makeEncoder(formatting: [.prettyPrinted, .sortedKeys])
}
