import GatehouseCore
import NIOConcurrencyHelpers

/// Who authenticated on one SSH connection. The auth delegate fills it only after the library verified the
/// key's signature; the connection's session channels read it, and resolve the key again for every session
/// (`AccessService.principal` reads the store only when the data changed), so that a key removed while the
/// connection stays open (say, an OpenSSH ControlMaster) opens nothing more.
final class ConnectionIdentity: Sendable {
    struct Authenticated: Sendable {
        var fingerprint: String
        var username: String
    }

    let sourceIP: String?
    private let authenticated = NIOLockedValueBox<Authenticated?>(nil)

    init(sourceIP: String?) {
        self.sourceIP = sourceIP
    }

    var current: Authenticated? { authenticated.withLockedValue { $0 } }

    func record(_ authenticated: Authenticated) {
        self.authenticated.withLockedValue { $0 = authenticated }
    }
}
