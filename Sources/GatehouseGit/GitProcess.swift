import Foundation
import GatehouseCore
import Subprocess

/// Runs `git upload-pack`, `receive-pack` or `upload-archive` on a repository, streaming in both directions.
/// Backpressure is end to end: a chunk is read from Git only after the previous one was accepted by `output`,
/// and the next input chunk is pulled only after Git took the previous one.
public struct GitProcess: Sendable {
    private enum Pump { case input, output }

    public let repositories: GitRepositories

    public init(repositories: GitRepositories) {
        self.repositories = repositories
    }

    /// Runs the command and returns Git's exit status (128 + signal number if it was killed).
    public func run<Input: AsyncSequence & Sendable>(
        _ command: AuthorizedGitCommand,
        gitProtocol: String?,
        sourceIP: String? = nil,
        input: Input,
        output: @escaping @Sendable ([UInt8]) async throws -> Void,
        errorOutput: @escaping @Sendable ([UInt8]) async throws -> Void
    ) async throws -> Int32 where Input.Element == [UInt8] {
        let directory = try repositories.resolvedDirectory(of: command.repository)
        let hooks = try repositories.hooks.required(for: command, sourceIP: sourceIP)
        let result = try await Subprocess.run(
            .name("git"),
            arguments: Arguments(hooks.arguments + [command.service.rawValue, directory]),
            environment: GitEnvironment.base(gitProtocol: gitProtocol, adding: hooks.variables),
            input: .inputWriter, output: .sequence, error: .sequence
        ) { execution in
            try await withThrowingTaskGroup(of: Pump.self) { group in
                group.addTask {
                    // The client may keep the channel open after Git stopped reading, or send nothing at all.
                    do {
                        for try await chunk in input where !chunk.isEmpty {
                            _ = try await execution.standardInputWriter.write(chunk)
                        }
                    } catch {}
                    try? await execution.standardInputWriter.finish()
                    return .input
                }
                group.addTask {
                    for try await buffer in execution.standardOutput {
                        try await output(buffer.withUnsafeBytes { Array($0) })
                    }
                    return .output
                }
                group.addTask {
                    for try await buffer in execution.standardError {
                        try await errorOutput(buffer.withUnsafeBytes { Array($0) })
                    }
                    return .output
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
