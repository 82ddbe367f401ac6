/// What an API token may be used for, with Bitbucket Cloud's scope names. Each family is ordered:
/// `repository:admin` includes `repository:write`, which includes `repository`; `account:write` includes `account`.
public enum TokenScope: String, Sendable, CaseIterable, Codable, Comparable {
    case repository
    case repositoryWrite = "repository:write"
    case repositoryAdmin = "repository:admin"
    case account
    case accountWrite = "account:write"

    /// The scope a token needs for an operation on a repository.
    public static func required(for operation: Operation) -> TokenScope {
        switch operation {
        case .read: .repository
        case .write: .repositoryWrite
        case .administer: .repositoryAdmin
        }
    }

    /// Whether holding `self` is enough for `required`.
    public func covers(_ required: TokenScope) -> Bool {
        family == required.family && rank >= required.rank
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.family, lhs.rank) < (rhs.family, rhs.rank)
    }

    private var family: Int { self == .account || self == .accountWrite ? 1 : 0 }

    private var rank: Int {
        switch self {
        case .repository, .account: 0
        case .repositoryWrite, .accountWrite: 1
        case .repositoryAdmin: 2
        }
    }
}

/// The scopes a caller acts under: everything for the operator and signed-in people, a token's scopes for a token.
public struct TokenScopes: Sendable, Hashable, Codable {
    public var scopes: Set<TokenScope>

    public init(_ scopes: some Sequence<TokenScope>) {
        self.scopes = Set(scopes)
    }

    /// No limit beyond the account's own permissions.
    public static let unlimited = TokenScopes(TokenScope.allCases)

    public func allows(_ required: TokenScope) -> Bool {
        scopes.contains { $0.covers(required) }
    }

    /// Sorted names, e.g. `["account", "repository:admin"]`.
    public var names: [String] { scopes.map(\.rawValue).sorted() }
}
