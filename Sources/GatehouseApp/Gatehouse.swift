import ArgumentParser
import Foundation
import GatehouseCore

/// The `gatehouse` command: the server and its administration.
public struct Gatehouse: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "A self-hosted Git server built around deployment keys.",
        subcommands: [
            Serve.self, UserCommand.self, WorkspaceCommand.self, RepoCommand.self, SSHKeyCommand.self,
            DeployKeyCommand.self, HostKeysCommand.self, AuditCommand.self, AuthorizedKeysCommand.self,
            ShellCommand.self, SSHDConfigCommand.self, TokenCommand.self, MailCommand.self, HookCommand.self, RegistrationTokenCommand.self,
        ])

    public init() {}

    /// Runs the command line. Refusals print what was wrong and what to do and exit 1; a part of the server that
    /// is unavailable exits 69, a full disk 73 and a fault 70 (sysexits' EX_UNAVAILABLE, EX_CANTCREAT and
    /// EX_SOFTWARE), naming the cause: the
    /// operator at the terminal is the one who reads the log.
    public static func runCommandLine() async {
        do {
            var command = try parseAsRoot(Self.dataOptionLast(Array(CommandLine.arguments.dropFirst())))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error where error is GatehouseError || error is any GatehouseErrorConvertible {
            let error = GatehouseError(error)
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            switch error.category {
            case .invalidInput, .notFound, .conflict, .denied, .unauthenticated: Foundation.exit(1)
            case .unavailable: Foundation.exit(69)
            case .storageFull: Foundation.exit(73)
            case .internal: Foundation.exit(70)
            }
        } catch {
            exit(withError: error)
        }
    }

    /// `--data DIR` given before the subcommand (`gatehouse --data DIR serve`, as `git -C` users type it) moves to
    /// the end, where every subcommand's options take it.
    static func dataOptionLast(_ arguments: [String]) -> [String] {
        var arguments = arguments
        var moved: [String] = []
        if arguments.first == "--data", arguments.count >= 2 {
            moved = Array(arguments[0...1])
            arguments.removeFirst(2)
        } else if let first = arguments.first, first.hasPrefix("--data=") {
            moved = [first]
            arguments.removeFirst()
        }
        let end = arguments.firstIndex(of: "--") ?? arguments.endIndex
        arguments.insert(contentsOf: moved, at: end)
        return arguments
    }
}
