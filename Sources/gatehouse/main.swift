import Foundation
import GatehouseApp

// sshd runs this on every connection attempt: answer before anything else starts.
if AuthorizedKeysFastPath.run(CommandLine.arguments) { exit(0) }
await Gatehouse.runCommandLine()
