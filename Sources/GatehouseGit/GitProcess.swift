import Foundation
import GatehouseCore
import Subprocess
import Synchronization

/// Runs `git upload-pack`, `receive-pack` or `upload-archive` on a repository, streaming in both directions.
/// Backpressure is end to end: a chunk is read from Git only after the previous one was accepted by `output`,
/// and the next input chunk is pulled only after Git took the previous one.
public struct GitProcess: Sendable {
    private enum Pump { case input, output, watchdog }

    public let repositories: GitRepositories
    /// Git is stopped when nothing moved in either direction for this long (`git.idle-timeout-seconds`).
    public let idleTimeout: Duration

    /// Ten minutes: git's own keepalive (`uploadpack.keepAlive`) sends something every few seconds while it works.
    public static let defaultIdleTimeout: Duration = .seconds(600)

    public init(repositories: GitRepositories, idleTimeout: Duration = defaultIdleTimeout) {
        self.repositories = repositories
        self.idleTimeout = idleTimeout
    }

    /// Runs the command and returns Git's exit status (128 + signal number if it was killed). Throws
    /// `GitStalled` when git made no progress for `idleTimeout`; cancelling the task stops git too (SIGTERM, so that
    /// it removes its lock files, then SIGKILL after two seconds).
    public func run<Input: AsyncSequence & Sendable>(
        _ command: AuthorizedGitCommand,
        gitProtocol: String?,
        sourceIP: String? = nil,
        input: Input,
        output: @escaping @Sendable ([UInt8]) async throws -> Void,
        errorOutput: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws -> Int32 where Input.Element == [UInt8] {
        let directory = try repositories.resolvedDirectory(of: command.repository)
        let invocation = try GitInvocation(command, directory: directory, gitProtocol: gitProtocol, hooks: repositories.hooks, sourceIP: sourceIP)
        var options = PlatformOptions()
        options.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(2))]
        let lastProgress = LastProgress()
        let idleTimeout = idleTimeout
        let result = try await Subprocess.run(
            .name("git"),
            arguments: Arguments(invocation.arguments),
            environment: GitEnvironment.subprocess(invocation.variables),
            platformOptions: options,
            input: .inputWriter, output: .sequence, error: .sequence
        ) { execution in
            try await withThrowingTaskGroup(of: Pump.self) { group in
                group.addTask {
                    // The client may keep the channel open after Git stopped reading, or send nothing at all.
                    do {
                        for try await chunk in input where !chunk.isEmpty {
                            lastProgress.mark()
                            _ = try await execution.standardInputWriter.write(chunk)
                        }
                    } catch {}
                    try? await execution.standardInputWriter.finish()
                    return .input
                }
                group.addTask {
                    for try await buffer in execution.standardOutput {
                        lastProgress.mark()
                        try await output(buffer.withUnsafeBytes { Array($0) })
                    }
                    return .output
                }
                group.addTask {
                    for try await buffer in execution.standardError {
                        lastProgress.mark()
                        try await errorOutput(buffer.withUnsafeBytes { Array($0) })
                    }
                    return .output
                }
                group.addTask {
                    // Ends with the group (cancelled) or by throwing, which stops git.
                    while (try? await Task.sleep(for: min(idleTimeout, .seconds(1)))) != nil {
                        if lastProgress.idle >= idleTimeout { throw GitStalled(after: idleTimeout) }
                    }
                    return .watchdog
                }
                // Git is done when both of its outputs end; the input is then no longer wanted.
                var endedOutputs = 0
                while endedOutputs < 2, let ended = try await group.next() {
                    if ended == .output { endedOutputs += 1 }
                }
                group.cancelAll()
            }
        }
        switch result.terminationStatus {
        case .exited(let code): return code
        case .signaled(let signal): return 128 + signal
        }
    }
}

/// When bytes last moved between git and the client.
private final class LastProgress: Sendable {
    private let instant = Mutex(ContinuousClock.now)

    func mark() { instant.withLock { $0 = .now } }
    var idle: Duration { ContinuousClock.now - instant.withLock { $0 } }
}

/// Git made no progress (no byte in either direction) for the idle timeout and was stopped.
public struct GitStalled: Error, Sendable, CustomStringConvertible {
    public var after: Duration

    /// The reason, for the client.
    public var description: String {
        "git made no progress for \(after.components.seconds) seconds, so the server ended the session. Try again; if it keeps happening, tell the server's operator."
    }
}
