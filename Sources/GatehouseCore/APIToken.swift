import Foundation

/// An API token as stored: everything but the secret, of which only a hash is kept.
public struct APIToken: Sendable, Equatable, Codable {
    public var id: UUID
    public var userID: UUID
    public var name: String
    public var scopes: TokenScopes
    public var createdAt: Date
    public var expiresAt: Date?
    public var lastUsed: Date?

    public init(id: UUID, userID: UUID, name: String, scopes: TokenScopes, createdAt: Date, expiresAt: Date?, lastUsed: Date?) {
        self.id = id
        self.userID = userID
        self.name = name
        self.scopes = scopes
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.lastUsed = lastUsed
    }

    public func isExpired(at date: Date) -> Bool {
        expiresAt.map { $0 <= date } ?? false
    }
}

/// A token created just now: the only moment its secret exists outside the caller's hands.
public struct IssuedToken: Sendable {
    public var token: APIToken
    public var secret: String
}
