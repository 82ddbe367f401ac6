import Foundation
import Synchronization

/// How many git processes may run at once on this node and for one key. A session over a limit waits its turn
/// for up to `queueWait`, then is refused with a message, so that one leaked key (or one busy fleet) cannot take
/// every process the machine has.
public final class GitProcessSlots: Sendable {
    public struct Limits: Sendable, Equatable {
        /// `git.max-processes`: on the whole node.
        public var perNode: Int
        /// `git.max-processes-per-key`: for one key, over all its connections.
        public var perKey: Int
        /// `git.queue-seconds`: how long a session waits for a slot before it is refused.
        public var queueWait: Duration

        public init(perNode: Int = 64, perKey: Int = 16, queueWait: Duration = .seconds(30)) {
            self.perNode = perNode
            self.perKey = perKey
            self.queueWait = queueWait
        }
    }

    /// No slot came free in time.
    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        case nodeBusy(Limits)
        case keyBusy(Limits)

        /// The reason, for the client.
        public var description: String {
            switch self {
            case .nodeBusy(let limits):
                "The server is running as many git processes as it allows (\(limits.perNode)), and none finished within \(limits.queueWait.components.seconds) seconds. Try again in a moment."
            case .keyBusy(let limits):
                "This key is already running \(limits.perKey) git processes, the most one key may run at once, and none finished within \(limits.queueWait.components.seconds) seconds. Wait for them, or give each machine its own key."
            }
        }
    }

    private struct Waiter {
        var id: UUID
        var key: KeyLocator
        var continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var running = 0
        var byKey: [KeyLocator: Int] = [:]
        var queue: [Waiter] = []

        func fits(_ key: KeyLocator, _ limits: Limits) -> Bool {
            running < limits.perNode && byKey[key, default: 0] < limits.perKey
        }

        mutating func take(_ key: KeyLocator) {
            running += 1
            byKey[key, default: 0] += 1
        }
    }

    public let limits: Limits
    private let state = Mutex(State())

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Runs `body` holding a slot for `key`; throws `Refusal` when none came free within the queue wait.
    public func withSlot<T>(for key: KeyLocator, _ body: () async throws -> T) async throws -> T {
        guard await acquire(key) else {
            let keyFull = state.withLock { $0.byKey[key, default: 0] >= limits.perKey }
            throw keyFull ? Refusal.keyBusy(limits) : Refusal.nodeBusy(limits)
        }
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: KeyLocator) async -> Bool {
        let id = UUID()
        let limits = limits
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                let granted = state.withLock { state in
                    guard state.fits(key, limits) else {
                        state.queue.append(Waiter(id: id, key: key, continuation: continuation))
                        return false
                    }
                    state.take(key)
                    return true
                }
                if granted { return continuation.resume(returning: true) }
                Task { [weak self] in
                    try? await Task.sleep(for: limits.queueWait)
                    self?.giveUp(id)
                }
            }
        } onCancel: {
            giveUp(id)
        }
    }

    private func giveUp(_ id: UUID) {
        let waiter = state.withLock { state in
            state.queue.firstIndex { $0.id == id }.map { state.queue.remove(at: $0) }
        }
        waiter?.continuation.resume(returning: false)
    }

    private func release(_ key: KeyLocator) {
        let granted = state.withLock { state in
            state.running -= 1
            state.byKey[key, default: 1] -= 1
            if state.byKey[key] == 0 { state.byKey[key] = nil }
            // In order of arrival, everyone who fits now (a key at its own limit does not hold up the others).
            var granted: [Waiter] = []
            var index = 0
            while index < state.queue.count {
                if state.fits(state.queue[index].key, limits) {
                    state.take(state.queue[index].key)
                    granted.append(state.queue.remove(at: index))
                } else {
                    index += 1
                }
            }
            return granted
        }
        for waiter in granted { waiter.continuation.resume(returning: true) }
    }
}
