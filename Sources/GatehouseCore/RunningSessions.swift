import Foundation
import Synchronization

/// The git sessions running in this process, each decided again whenever the stored data changes, so that
/// removing a key, narrowing it or taking away a grant ends the sessions it no longer allows within a moment —
/// not only the next connection.
///
/// The store's data version moves on every commit, by this process, the CLI or another node, which is what makes
/// polling it cheap enough to do several times a second.
public final class RunningSessions: Sendable {
    /// One running session: what it runs, with which key, how to end it, and the data version it was last
    /// decided at.
    struct Session: Sendable {
        var key: KeyLocator
        var command: AuthorizedGitCommand
        var end: @Sendable (String) -> Void
        var decidedAt: UInt64?
    }

    private let access: AccessService
    private let sessions = Mutex<[UUID: Session]>([:])
    /// How often the data version is compared; a session is ended at most this long (plus the reads) after the change.
    public let interval: Duration

    public init(access: AccessService, interval: Duration = .milliseconds(250)) {
        self.access = access
        self.interval = interval
    }

    /// The version to pass to `run`: read it *before* deciding the session, so that a change landing while the
    /// decision is made is checked again.
    public func version() -> UInt64? { access.store.dataVersion() }

    /// Runs `body` (git) as a session of `key` running `command`, decided at data version `decidedAt`. When the
    /// session is no longer allowed, `body` is cancelled (it must stop git then), awaited, and `SessionEnded` is
    /// thrown with the message for the client.
    public func run<T: Sendable>(
        key: KeyLocator, command: AuthorizedGitCommand, decidedAt: UInt64?, body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let id = UUID()
        let work = Task { try await body() }
        let ending = Ending()
        sessions.withLock {
            $0[id] = Session(
                key: key, command: command,
                end: { reason in
                    ending.reason.withLock { $0 = reason }
                    work.cancel()
                }, decidedAt: decidedAt)
        }
        defer { _ = sessions.withLock { $0.removeValue(forKey: id) } }
        let result = await withTaskCancellationHandler {
            await work.result
        } onCancel: {
            work.cancel()
        }
        if let reason = ending.reason.withLock({ $0 }) { throw SessionEnded(reason: reason) }
        return try result.get()
    }

    /// Decides again every session decided at another version than the current one (every session, without a
    /// version) and ends those no longer allowed. A store that cannot answer ends nothing: the session was
    /// allowed, and the next pass asks again.
    public func recheck() async {
        let version = access.store.dataVersion()
        let stale = sessions.withLock { sessions in sessions.filter { version == nil || $0.value.decidedAt != version } }
        for (id, session) in stale {
            let refusal: String?
            do {
                refusal = try await access.recheck(session.command, key: session.key)
            } catch {
                continue
            }
            guard let refusal else {
                sessions.withLock { $0[id]?.decidedAt = version }
                continue
            }
            // Only once: the session may take a moment to stop after it was told.
            guard sessions.withLock({ $0.removeValue(forKey: id) }) != nil else { continue }
            session.end(refusal)
        }
    }

    /// Rechecks the running sessions every `interval` until cancelled.
    public func watch() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            await recheck()
        }
    }
}

/// Access was withdrawn while a session ran, and the session was stopped.
public struct SessionEnded: Error, Sendable {
    /// What the client reads on stderr (`ERROR: …`).
    public var reason: String
}

/// Why a running session was ended, set once by the watcher.
private final class Ending: Sendable {
    let reason = Mutex<String?>(nil)
}
