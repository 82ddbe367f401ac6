/// What a principal may do to a repository, ordered so that a higher level includes the lower ones.
public enum AccessLevel: Int, Sendable, Comparable, CaseIterable, Codable {
    case none = 0
    case read = 1
    case write = 2
    case admin = 3

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The lowercase name used on the command line and in the database: `read`, `write`, `admin`.
    public var name: String {
        switch self {
        case .none: "none"
        case .read: "read"
        case .write: "write"
        case .admin: "admin"
        }
    }

    public init?(name: String) {
        guard let level = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = level
    }
}

/// A member's role in a workspace. Admins and owners administer every repository in it.
public enum WorkspaceRole: String, Sendable, CaseIterable, Codable {
    case member
    case admin
    case owner

    /// The access the role alone grants on every repository of the workspace.
    public var impliedRepositoryAccess: AccessLevel {
        switch self {
        case .member: .none
        case .admin, .owner: .admin
        }
    }
}
