import Synchronization

/// Counts the connections that have not authenticated yet, on the whole server and per source address, so that
/// idle or hostile sockets cannot take every descriptor: past a limit a new connection is closed at once
/// (like OpenSSH's MaxStartups), and an authenticated one no longer counts.
final class UnauthenticatedConnections: Sendable {
    /// One admitted connection's place in the count; given back once, when it authenticates or closes.
    final class Admission: Sendable {
        private let owner: UnauthenticatedConnections
        private let address: String
        private let released = Mutex(false)

        fileprivate init(owner: UnauthenticatedConnections, address: String) {
            self.owner = owner
            self.address = address
        }

        func release() {
            guard
                released.withLock({ released in
                    defer { released = true }
                    return !released
                })
            else { return }
            owner.release(address)
        }
    }

    private let limits: SSHLimits
    private let counts = Mutex<(total: Int, byAddress: [String: Int])>((0, [:]))

    init(limits: SSHLimits) {
        self.limits = limits
    }

    /// A place for a new connection from `address`, or nil when a limit is reached.
    func admit(_ address: String?) -> Admission? {
        let address = address ?? "-"
        let admitted = counts.withLock { counts in
            guard counts.total < limits.maxUnauthenticated, counts.byAddress[address, default: 0] < limits.maxUnauthenticatedPerAddress else {
                return false
            }
            counts.total += 1
            counts.byAddress[address, default: 0] += 1
            return true
        }
        return admitted ? Admission(owner: self, address: address) : nil
    }

    /// Connections not yet authenticated.
    var total: Int { counts.withLock { $0.total } }

    private func release(_ address: String) {
        counts.withLock { counts in
            counts.total -= 1
            counts.byAddress[address, default: 1] -= 1
            if counts.byAddress[address] == 0 { counts.byAddress[address] = nil }
        }
    }
}
