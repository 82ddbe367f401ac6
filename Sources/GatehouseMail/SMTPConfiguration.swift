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
    public var security: Security
    /// PEM certificates to trust instead of the system's, e.g. an internal relay's own CA.
    public var trustedCertificatesFile: String?

    /// How the connection is protected.
    public enum Security: String, Sendable, CaseIterable {
        /// Upgrade with STARTTLS and verify the certificate; refuse servers that do not offer it.
        case startTLS = "starttls"
        /// Plain text, for a relay on a trusted network or loopback.
        case none
    }

    public init(
        host: String, port: Int = 25, username: String? = nil, password: String? = nil,
        from: String, heloName: String = "gatehouse.localdomain", security: Security = .startTLS,
        trustedCertificatesFile: String? = nil
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.from = from
        self.heloName = heloName
        self.security = security
        self.trustedCertificatesFile = trustedCertificatesFile
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
