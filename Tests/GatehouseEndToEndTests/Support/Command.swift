import Foundation
import Subprocess
import SystemPackage

/// The outcome of running a real program (git, ssh, ssh-keygen, gatehouse).
struct CommandResult: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var succeeded: Bool { status == 0 }
    var description: String { "exit \(status)\nstdout: \(stdout)\nstderr: \(stderr)" }
}

/// Runs a program to completion with swift-subprocess, as the server does: waiting never blocks a thread,
/// and one kind of child-process handling serves the whole test process.
func runCommand(
    _ executable: String, _ arguments: [String], environment: [String: String] = [:],
    input: String? = nil
) async throws -> CommandResult {
    let program: Subprocess.Executable = executable.hasPrefix("/") ? .path(.init(stringLiteral: executable)) : .name(executable)
    var updates: [Subprocess.Environment.Key: String?] = [:]
    for (name, value) in environment { updates[Subprocess.Environment.Key(stringLiteral: name)] = value }
    let limit = 64 * 1024 * 1024
    let trace = ProcessInfo.processInfo.environment["GATEHOUSE_TEST_TRACE"] != nil
    if trace { FileHandle.standardError.write(Data("→ \(executable) \(arguments.joined(separator: " "))\n".utf8)) }
    defer { if trace { FileHandle.standardError.write(Data("← \(executable) \(arguments.prefix(3).joined(separator: " "))\n".utf8)) } }
    let result =
        if let input {
            // Standard input from a file rather than a pipe that swift-subprocess writes: a child that exits before
            // reading it (ssh refused at once) made that writer fail and trap on its unclosed descriptor.
            try await Subprocess.run(
                program, arguments: Arguments(arguments), environment: .inherit.updating(updates),
                input: .fileDescriptor(try inputFile(input), closeAfterSpawningProcess: true), output: .string(limit: limit),
                error: .string(limit: limit))
        } else {
            try await Subprocess.run(
                program, arguments: Arguments(arguments), environment: .inherit.updating(updates),
                output: .string(limit: limit), error: .string(limit: limit))
        }
    let status: Int32 =
        switch result.terminationStatus {
        case .exited(let code): code
        case .signaled(let signal): 128 + signal
        }
    return CommandResult(status: status, stdout: result.standardOutput, stderr: result.standardError)
}

/// `text` in an unlinked temporary file, open for reading from its start.
private func inputFile(_ text: String) throws -> FileDescriptor {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-input-\(UUID().uuidString)").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try FileDescriptor.open(FilePath(path), .readOnly)
}

func which(_ name: String) throws -> String {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw TestSetupError("\(name) is not installed; scripts/test installs it")
}

struct TestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A fresh temporary directory (symlinks resolved).
func makeTemporaryDirectory(_ prefix: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.resolvingSymlinksInPath()
}

/// The `gatehouse` binary built next to this test bundle.
func gatehouseBinary() throws -> String {
    let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("gatehouse").path
    if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let built = packageRoot.appendingPathComponent(".build/debug/gatehouse").path
    guard FileManager.default.isExecutableFile(atPath: built) else { throw TestSetupError("gatehouse is not built; run scripts/test") }
    return built
}
