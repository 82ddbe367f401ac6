/// Which repositories of a workspace a workspace deployment key covers: all of them (now and later), or those
/// whose slug is named or matches a glob (`web-*`).
public enum RepositorySelector: Sendable, Hashable, CustomStringConvertible {
    case all
    case matching([String])

    /// `all`, or slugs and globs separated by commas (`web-*,api`).
    public init(parsing text: String) throws(GatehouseError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "all" {
            self = .all
            return
        }
        try self.init(names: trimmed.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
    }

    /// Slugs and slug globs; `["all"]` alone is `.all`.
    public init(names: [String]) throws(GatehouseError) {
        if names == ["all"] {
            self = .all
            return
        }
        guard !names.isEmpty else {
            throw .invalidArgument("Name the repositories the key covers: all, or slugs and globs such as web-*,api.")
        }
        guard !names.contains("all") else {
            throw .invalidArgument("\"all\" stands alone: give all, or a list of slugs and globs such as web-*,api.")
        }
        for name in names {
            // A glob is a slug with '*' in it: the same characters, so no pattern can reach another workspace.
            guard Names.isValidSlug(name.replacingOccurrences(of: "*", with: "x")) else {
                throw .invalidArgument(
                    "\"\(name)\" is not a repository slug or glob: use lowercase letters, digits, '-', '_', '.' and '*', e.g. web-*."
                )
            }
        }
        self = .matching(names)
    }

    public func covers(_ slug: String) -> Bool {
        switch self {
        case .all: true
        case .matching(let names): names.contains { RefRule.matches(pattern: $0, ref: slug) }
        }
    }

    /// `all` or the comma-separated names: how the CLI prints it and the database keeps it.
    public var description: String {
        switch self {
        case .all: "all"
        case .matching(let names): names.joined(separator: ",")
        }
    }
}
