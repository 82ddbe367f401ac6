import Foundation
import Subprocess
import SystemPackage
import Testing

/// The CLI on its own data directory.
struct CLI {
    let data: URL
    let binary: String

    /// A CLI on a new data directory in `root` with user alice owning workspace acme and repository acme/app.
    static func withWorkspace(in root: URL) async throws -> CLI {
        let cli = CLI(data: root.appendingPathComponent("data"), binary: try gatehouseBinary())
        for step in [
            ["user", "add", "alice", "--email", "alice@example.com"], ["workspace", "add", "acme", "--owner", "alice"],
            ["repo", "create", "acme/app"],
        ] {
            let result = try await cli.run(step)
            guard result.succeeded else { throw TestSetupError("\(step): \(result)") }
        }
        return cli
    }

    /// `withWorkspace` and an SSH key of alice's (she owns acme): where the tests against a running server start.
    static func withAlicesKey(in root: URL) async throws -> (CLI, KeyPair) {
        let cli = try await withWorkspace(in: root)
        let key = try await KeyPair.generate("ed25519", in: root)
        let added = try await cli("ssh-key", "add", "alice", "--label", "laptop", "--key-file", key.privateKeyPath + ".pub")
        guard added.succeeded else { throw TestSetupError("ssh-key add: \(added)") }
        return (cli, key)
    }

    func callAsFunction(_ arguments: String..., input: String? = nil) async throws -> CommandResult {
        try await run(arguments, input: input)
    }

    func run(_ arguments: [String], input: String? = nil) async throws -> CommandResult {
        let arguments = arguments + ["--data", data.path]
        return try await runCommand(binary, arguments, input: input)
    }
}

/// What `gatehouse serve` printed on start, and its ports.
struct ServerStart {
    var sshPort: Int
    var httpPort: Int
    var banner: String
    /// With `metrics.listen`, where `/metrics` is served.
    var metricsPort: Int?
    /// The server's process, for what the tests read of it in /proc.
    var pid: Int32 = 0
}

/// Runs `gatehouse serve` on ephemeral loopback ports while `body` runs, then stops it with SIGTERM.
/// Returns the server's exit status.
/// `log`, when given, receives the server's log (standard error) at level info.
func withServer(
    binary: String, data: URL, arguments: [String] = [], environment: [String: String] = [:], log: URL? = nil,
    _ body: (ServerStart) async throws -> Void
) async throws -> Int32 {
    var updates: [Subprocess.Environment.Key: String?] = [:]
    for (name, value) in environment { updates[Subprocess.Environment.Key(stringLiteral: name)] = value }
    let logLevel = log == nil ? "warning" : "info"
    let errorOutput: FileDescriptorOutput = .fileDescriptor(
        try FileDescriptor.open(FilePath(log?.path ?? "/dev/null"), .writeOnly, options: [.create, .truncate], permissions: .ownerReadWrite),
        closeAfterSpawningProcess: true)
    let result = try await Subprocess.run(
        .path(.init(stringLiteral: binary)),
        arguments: Arguments(["serve", "--data", data.path, "--ssh", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-level", logLevel] + arguments),
        environment: .inherit.updating(updates),
        input: .none, output: .sequence, error: errorOutput
    ) { execution in
        var sshPort: Int?
        var httpPort: Int?
        var metricsPort: Int?
        let metricsListen = environment["GATEHOUSE_METRICS_LISTEN"] != nil
        var printed = ""
        func port(_ line: String, after prefix: String) -> Int? {
            line.hasPrefix(prefix) ? Int(line.dropFirst(prefix.count).prefix { $0.isNumber }) : nil
        }
        for try await line in execution.standardOutput.strings() {
            printed += line
            sshPort = sshPort ?? port(line, after: "SSH: 127.0.0.1:")
            httpPort = httpPort ?? port(line, after: "HTTP: 127.0.0.1:")
            metricsPort = metricsPort ?? port(line, after: "Metrics: 127.0.0.1:")
            if httpPort != nil, metricsPort != nil || !metricsListen { break }
        }
        guard let sshPort, let httpPort else { throw TestSetupError("serve did not print its addresses: \(printed)") }
        do {
            try await body(
                ServerStart(sshPort: sshPort, httpPort: httpPort, banner: printed, metricsPort: metricsPort, pid: execution.processIdentifier.value))
        } catch {
            try? execution.send(signal: .terminate)
            throw error
        }
        try execution.send(signal: .terminate)
    }
    switch result.terminationStatus {
    case .exited(let code): return code
    case .signaled(let signal): return 128 + signal
    }
}
