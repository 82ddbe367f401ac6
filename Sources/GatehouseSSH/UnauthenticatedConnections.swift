import Foundation
import Synchronization

/// Counts the connections that have not authenticated yet, on the whole server and per source address, so that
/// idle or hostile sockets cannot take every descriptor, and an authenticated one no longer counts.
///
/// Past the per-address limit a new connection is closed at once. At the server's limit a newcomer is not simply
/// refused (like OpenSSH's MaxStartups): the oldest waiting connection of the address that holds the most is closed
/// to make room, as long as that address holds more than the newcomer's would. Whoever floods from a few addresses
/// loses its own oldest sockets, and a client connecting from anywhere else still gets in.
final class UnauthenticatedConnections: Sendable {
    /// One admitted connection's place in the count; given back once, when it authenticates, closes or is evicted.
    final class Admission: Sendable {
        private let owner: UnauthenticatedConnections
        fileprivate let address: String
        fileprivate let evict: @Sendable () -> Void

        fileprivate init(owner: UnauthenticatedConnections, address: String, evict: @escaping @Sendable () -> Void) {
            self.owner = owner
            self.address = address
            self.evict = evict
        }

        func release() {
            owner.release(self)
        }
    }

    private struct Counts: ~Copyable {
        var total = 0
        /// Each address's waiting connections, oldest first.
        var byAddress: [String: [Admission]] = [:]

        mutating func remove(_ admission: Admission) -> Bool {
            guard var waiting = byAddress[admission.address], let index = waiting.firstIndex(where: { $0 === admission }) else { return false }
            waiting.remove(at: index)
            byAddress[admission.address] = waiting.isEmpty ? nil : waiting
            total -= 1
            return true
        }
    }

    private let limits: SSHLimits
    private let counts = Mutex(Counts())

    init(limits: SSHLimits) {
        self.limits = limits
    }

    /// A place for a new connection from `address`, or nil when it must be closed at once. `evict` closes the
    /// connection if it is later evicted to make room for another.
    func admit(_ address: String?, evict: @escaping @Sendable () -> Void) -> Admission? {
        let address = Self.source(address)
        let admission = Admission(owner: self, address: address, evict: evict)
        let (admitted, evicted) = counts.withLock { counts -> (Bool, Admission?) in
            let mine = counts.byAddress[address]?.count ?? 0
            guard mine < limits.maxUnauthenticatedPerAddress else { return (false, nil) }
            var evicted: Admission?
            if counts.total >= limits.maxUnauthenticated {
                // Holding more than the newcomer's source would after it is admitted also rules out that source itself.
                guard let waiting = counts.byAddress.values.max(by: { $0.count < $1.count }), waiting.count > mine + 1,
                    let oldest = waiting.first
                else { return (false, nil) }
                _ = counts.remove(oldest)
                evicted = oldest
            }
            counts.total += 1
            counts.byAddress[address, default: []].append(admission)
            return (true, evicted)
        }
        evicted?.evict()
        return admitted ? admission : nil
    }

    /// Who a connection counts against: its IPv4 address, or its IPv6 /64, which one subscriber usually holds whole
    /// (counting single IPv6 addresses would let one host spread a flood over as many as it likes).
    static func source(_ address: String?) -> String {
        guard let address else { return "-" }
        var bytes = [UInt8](repeating: 0, count: 16)
        guard address.contains(":"), inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")  // IPv4-mapped
        }
        return bytes[0..<8].map { String(format: "%02x", $0) }.joined() + "/64"
    }

    /// Connections not yet authenticated.
    var total: Int { counts.withLock { $0.total } }

    private func release(_ admission: Admission) {
        _ = counts.withLock { $0.remove(admission) }
    }
}
