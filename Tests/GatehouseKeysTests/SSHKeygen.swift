import Foundation
import Subprocess

/// A fresh temporary directory; call `remove()` when done.
struct Scratch {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("gatehouse-keys-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// One line of `ssh-keygen -lf`: `BITS FINGERPRINT COMMENT (TYPE)`.
struct KeygenListing: Equatable {
    var bits: Int
    var fingerprint: String
    var comment: String
    var typeName: String
}

/// Runs the real /usr/bin/ssh-keygen.
enum SSHKeygen {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Generates a key pair in `scratch` and returns the path of the `.pub` file.
    static func generate(type: String, bits: Int?, comment: String, in scratch: Scratch) async throws -> String {
        let keyPath = scratch.path("key")
        var arguments = ["-q", "-t", type]
        if let bits { arguments += ["-b", String(bits)] }
        arguments += ["-N", "", "-C", comment, "-f", keyPath]
        try await run(arguments)
        return keyPath + ".pub"
    }

    /// `ssh-keygen -lf PATH`, parsed.
    static func list(_ pubPath: String) async throws -> KeygenListing {
        let output = try await run(["-lf", pubPath]).trimmingCharacters(in: .whitespacesAndNewlines)
        let fields = output.split(separator: " ").map(String.init)
        guard fields.count >= 3, let bits = Int(fields[0]), let last = fields.last,
            last.hasPrefix("("), last.hasSuffix(")")
        else {
            throw Failure(description: "unexpected ssh-keygen -l output: \(output)")
        }
        return KeygenListing(
            bits: bits, fingerprint: fields[1], comment: fields[2..<(fields.count - 1)].joined(separator: " "),
            typeName: String(last.dropFirst().dropLast()))
    }

    @discardableResult
    static func run(_ arguments: [String]) async throws -> String {
        // Standard input defaults to `.none` (no input); stdout and stderr are collected as UTF-8.
        let result = try await Subprocess.run(
            .path("/usr/bin/ssh-keygen"), arguments: Arguments(arguments),
            output: .string(limit: 1 << 20), error: .string(limit: 1 << 20))
        guard result.terminationStatus.isSuccess else {
            throw Failure(
                description: "ssh-keygen \(arguments.joined(separator: " ")) exited \(result.terminationStatus): "
                    + result.standardError)
        }
        return result.standardOutput
    }
}
