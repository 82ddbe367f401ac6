import ArgumentParser
import Foundation
import GatehouseCore

/// The `gatehouse` command: the server and its administration.
public struct Gatehouse: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gatehouse",
        abstract: "A self-hosted Git server built around deployment keys.",
        subcommands: [Serve.self, UserCommand.self, WorkspaceCommand.self, RepoCommand.self, SSHKeyCommand.self,
                      DeployKeyCommand.self, HostKeysCommand.self, AuditCommand.self, AuthorizedKeysCommand.self,
                      ShellCommand.self, SSHDConfigCommand.self, TokenCommand.self, MailCommand.self])

    public init() {}

    /// Runs the command line; refusals print what was wrong and what to do, and exit 1.
    public static func runCommandLine() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as GatehouseError {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            Foundation.exit(1)
        } catch let error as AccessDenial {
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}
