/// How to reach the SMTP server that delivers Gatehouse's notices.
public struct SMTPConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// For AUTH PLAIN or LOGIN, whichever the server offers; nil sends without authentication.
    public var username: String?
    public var password: String?
    /// The envelope sender and From: address.
    public var from: String
    /// The name given in EHLO.
    public var heloName: String

    public init(host: String, port: Int = 25, username: String? = nil, password: String? = nil,
                from: String, heloName: String = "gatehouse.localdomain") {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.from = from
        self.heloName = heloName
    }
}

/// Why a delivery failed; `isPermanent` for 5xx replies, which retrying will not fix.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public var isPermanent: Bool

    init(_ description: String, permanent: Bool = false) {
        self.description = description
        self.isPermanent = permanent
    }
}
