import Foundation
import Subprocess

/// aiosmtpd (from PyPI) on an ephemeral loopback port, writing what it accepts to a directory.
final class TestSMTPServer: @unchecked Sendable {
    let port: Int
    let directory: URL
    private let task: Task<Void, any Error>

    private init(port: Int, directory: URL, task: Task<Void, any Error>) {
        self.port = port
        self.directory = directory
        self.task = task
    }

    /// - Parameters:
    ///   - refusing: how many messages to refuse with 451 before accepting.
    ///   - login: a user name and password clients must authenticate with.
    ///   - tls: a certificate and key file; the server then requires STARTTLS.
    static func start(refusing: Int = 0, login: (String, String)? = nil, tls: (String, String)? = nil) async throws -> TestSMTPServer {
        let directory = try makeTemporaryDirectory("gatehouse-smtp")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Servers/smtp_server.py").path
        var arguments = [script, directory.path, "--refuse", String(refusing)]
        if let login { arguments += ["--auth", "\(login.0):\(login.1)"] }
        if let tls { arguments += ["--tls", tls.0, tls.1] }
        let (ports, continuation) = AsyncStream.makeStream(of: Int?.self)
        let task = Task {
            // Standard input stays open while the task runs; the server stops when it closes or on SIGTERM.
            _ = try await Subprocess.run(
                .name("python3"), arguments: Arguments(arguments),
                input: .inputWriter, output: .sequence, error: .discarded
            ) { execution in
                var received: [UInt8] = []
                var announced = false
                for try await buffer in execution.standardOutput {
                    received += buffer.withUnsafeBytes { Array($0) }
                    if let newline = received.firstIndex(of: UInt8(ascii: "\n")) {
                        continuation.yield(Int(String(decoding: received[..<newline], as: UTF8.self)))
                        announced = true
                        break
                    }
                }
                if !announced { continuation.yield(nil) }
                continuation.finish()
                await withTaskCancellationHandler {
                    try? await Task.sleep(for: .seconds(3600))
                } onCancel: {
                    try? execution.send(signal: .terminate)
                }
                try? await execution.standardInputWriter.finish()
            }
        }
        var iterator = ports.makeAsyncIterator()
        guard let first = await iterator.next(), let port = first else {
            task.cancel()
            throw TestSetupError("the SMTP server did not start (is aiosmtpd installed? scripts/test installs it)")
        }
        return TestSMTPServer(port: port, directory: directory, task: task)
    }

    /// The raw messages received so far, oldest first.
    func messages() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".eml") }.sorted { Int($0.dropLast(4)) ?? 0 < Int($1.dropLast(4)) ?? 0 }
            .compactMap { try? String(contentsOf: directory.appendingPathComponent($0), encoding: .utf8) }
    }

    /// Waits until `count` messages have arrived (or gives up after `limit`), and returns them.
    func waitForMessages(_ count: Int, limit: Duration = .seconds(20)) async throws -> [String] {
        let deadline = ContinuousClock.now + limit
        while messages().count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(100)) }
        return messages()
    }

    func stop() async {
        task.cancel()
        _ = await task.result
        try? FileManager.default.removeItem(at: directory)
    }
}
