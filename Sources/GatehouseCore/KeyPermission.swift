/// What a deployment key attachment may do: read (the default), or write limited to ref rules.
public struct KeyPermission: Sendable, Equatable {
    public let access: AccessLevel
    public let refRules: [RefRule]

    /// Clone, fetch, ls-remote, archive; no push.
    public static let readOnly = KeyPermission(access: .read, refRules: [])

    private init(access: AccessLevel, refRules: [RefRule]) {
        self.access = access
        self.refRules = refRules
    }

    /// `read` (no rules), or `write` with at least one rule: a write-enabled key is always limited to refs.
    public init(access: AccessLevel, rules: [RefRule]) throws(GatehouseError) {
        switch access {
        case .read:
            guard rules.isEmpty else {
                throw .invalidArgument("Ref rules are for write-enabled keys. Give the permission write with them, or leave them out for a read-only key.")
            }
            self = .readOnly
        case .write:
            guard !rules.isEmpty else {
                throw .invalidArgument(
                    "A write-enabled deployment key needs at least one ref rule saying what it may push, e.g. refs/tags/v* (CLI: --write 'refs/tags/v*'; API: \"ref_rules\": [{\"pattern\": \"refs/tags/v*\", \"allow\": [\"create\"]}])."
                )
            }
            self.init(access: .write, refRules: Array(Set(rules)).sorted { $0.pattern < $1.pattern })
        case .none, .admin:
            throw .invalidArgument("A deployment key's permission is read or write.")
        }
    }

    /// The permission as the API and the pages take it: a name, `read` (the default) or `write`, and the rules.
    public init(named name: String?, rules: [RefRule]) throws(GatehouseError) {
        guard let access = AccessLevel(name: name ?? "read"), access == .read || access == .write else {
            throw .invalidArgument("A deployment key's permission is read or write (with ref rules), not \"\(name ?? "")\".")
        }
        try self.init(access: access, rules: rules)
    }

    /// The summary of a stored attachment's access and rules.
    public static func summary(_ access: AccessLevel, _ rules: [RefRule]) -> String {
        (try? KeyPermission(access: access, rules: rules))?.summary ?? access.name
    }

    /// `read`, or `write` with the rules, as the CLI prints it.
    public var summary: String {
        access == .write ? "write (\(AccessDenial.describe(refRules)))" : "read-only"
    }
}
