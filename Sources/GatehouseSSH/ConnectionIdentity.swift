import GatehouseCore
import NIOConcurrencyHelpers

/// Who authenticated on one SSH connection. The auth delegate fills it only after the library verified the
/// key's signature; the connection's session channels read it.
final class ConnectionIdentity: Sendable {
    struct Authenticated: Sendable {
        var principal: Principal
        var username: String
    }

    let sourceIP: String?
    private let authenticated = NIOLockedValueBox<Authenticated?>(nil)

    init(sourceIP: String?) {
        self.sourceIP = sourceIP
    }

    var current: Authenticated? { authenticated.withLockedValue { $0 } }

    func record(_ principal: Principal, username: String) {
        authenticated.withLockedValue { $0 = Authenticated(principal: principal, username: username) }
    }
}
