import ArgumentParser
import Foundation
import GatehouseCore
import Logging

/// `--data DIR`, taken by every command.
struct DataOptions: ParsableArguments {
    @Option(name: .long, help: "The data directory (default: $GATEHOUSE_DATA or ./gatehouse-data).")
    var data: String = DataDirectory.defaultPath()

    /// Opens the data directory, runs `body`, and closes it whatever happens.
    func withDirectory<T>(_ body: (DataDirectory) async throws -> T) async throws -> T {
        var logger = Logger(label: "gatehouse")
        logger.logLevel = .warning
        let directory = try await DataDirectory.open(data, logger: logger)
        do {
            let result = try await body(directory)
            await directory.close()
            return result
        } catch {
            await directory.close()
            throw error
        }
    }
}

/// `HOST:PORT`, with `[v6]:PORT` for IPv6 addresses.
struct ListenAddress: ExpressibleByArgument, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"), let port = Int(argument[argument.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(argument[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.init(host: host, port: port)
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension AccessLevel: ExpressibleByArgument {
    public init?(argument: String) {
        guard let level = AccessLevel(name: argument), level != .none else { return nil }
        self = level
    }

    public static var allValueStrings: [String] { ["read", "write", "admin"] }
}

extension WorkspaceRole: ExpressibleByArgument {
    public static var allValueStrings: [String] { ["member", "admin"] }
}

/// Reads a key from a file, or from standard input for `-`.
func readKeyFile(_ path: String) throws -> String {
    if path == "-" {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        return String(decoding: data, as: UTF8.self)
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw GatehouseError.invalidArgument("Cannot read the key file \(path). Give the path of a .pub file, or - to read standard input.")
    }
    return String(decoding: data, as: UTF8.self)
}
