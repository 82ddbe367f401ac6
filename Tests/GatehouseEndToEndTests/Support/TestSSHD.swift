import Foundation
import Subprocess
import Testing

/// Which SSH server the clients talk to. Both must give the same answers: they share the access code.
enum FrontEnd: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// swift-nio-ssh inside Gatehouse.
    case builtIn
    /// A private OpenSSH sshd with `gatehouse authorized-keys` and the `gatehouse shell` forced command.
    case openSSH

    var testDescription: String { rawValue }
}

/// A private sshd on a loopback port with its own configuration and host key; the system's sshd is not
/// touched. sshd insists that the AuthorizedKeysCommand and every directory above it belong to root and
/// are not writable by others, so the gatehouse binary is linked into a directory under /var/lib.
final class TestSSHD: @unchecked Sendable {
    let port: Int
    private let directory: URL
    private let task: Task<Void, any Error>

    private init(port: Int, directory: URL, task: Task<Void, any Error>) {
        self.port = port
        self.directory = directory
        self.task = task
    }

    static func start(gatehouseBinary: String, data: URL, user: String) async throws -> TestSSHD {
        guard getuid() == 0 else { throw TestSetupError("the OpenSSH front-end tests start sshd and must run as root") }
        let directory = URL(fileURLWithPath: "/var/lib/gatehouse-tests-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let binary = directory.appendingPathComponent("gatehouse").path
        if link(gatehouseBinary, binary) != 0 { try FileManager.default.copyItem(atPath: gatehouseBinary, toPath: binary) }
        let hostKey = directory.appendingPathComponent("ssh_host_ed25519_key").path
        let keygen = try await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", hostKey])
        guard keygen.succeeded else { throw TestSetupError("ssh-keygen: \(keygen)") }
        // The port is chosen before sshd binds it, so another test's sshd can take it in between: each sshd
        // announces its own tag in its banner, and a port answered by someone else is tried again.
        let tag = "gatehouse-test-\(UUID().uuidString.prefix(8))"
        for _ in 0..<5 {
            let port = try freeLoopbackPort()
            // The Match block is exactly what `gatehouse sshd-config` prints for operators.
            let snippet = try await runCommand(binary, ["sshd-config", "--data", data.path, "--ssh-user", user])
            guard snippet.succeeded else { throw TestSetupError("sshd-config: \(snippet)") }
            let config = directory.appendingPathComponent("sshd_config")
            try """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(hostKey)
            PidFile none
            UsePAM no
            PermitRootLogin forced-commands-only
            VersionAddendum \(tag)
            \(snippet.stdout)
            """.write(to: config, atomically: true, encoding: .utf8)
            let task = Task {
                _ = try await Subprocess.run(
                    .path("/usr/sbin/sshd"), arguments: ["-D", "-e", "-f", config.path],
                    input: .none, output: .discarded, error: .discarded
                ) { execution in
                    await withTaskCancellationHandler {
                        try? await Task.sleep(for: .seconds(3600))
                    } onCancel: {
                        try? execution.send(signal: .terminate)
                    }
                }
            }
            let sshd = TestSSHD(port: port, directory: directory, task: task)
            for _ in 0..<100 where !answers(port, tag: tag) { try await Task.sleep(for: .milliseconds(50)) }
            if answers(port, tag: tag) { return sshd }
            task.cancel()
            _ = await task.result
        }
        try? FileManager.default.removeItem(at: directory)
        throw TestSetupError("sshd did not start on a loopback port after 5 tries")
    }

    func stop() async {
        task.cancel()
        _ = await task.result
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A port the kernel just handed out on 127.0.0.1 (closed again, so sshd can bind it).
private func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw TestSetupError("cannot bind a loopback port") }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Whether the sshd started with `tag` (and not some other process that got the port) listens on `port`.
private func answers(_ port: Int, tag: String) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var timeout = timeval(tv_sec: 1, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return false }
    var banner = [UInt8](repeating: 0, count: 256)
    let count = read(fd, &banner, banner.count)
    let text = count > 0 ? String(decoding: banner.prefix(count), as: UTF8.self) : ""
    return text.hasPrefix("SSH-2.0-OpenSSH") && text.contains(tag)
}
