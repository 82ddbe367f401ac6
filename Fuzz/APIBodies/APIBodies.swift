import Foundation
import FuzzSupport
import GatehouseCore
import GatehouseHTTP

/// The deployment-key API's JSON bodies: the first byte picks the route, the rest is the body. Every refusal is
/// one the API answers (an `APIError` or a `GatehouseError`, which it maps to a status); anything else is a fault.
func check(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let route = DeployKeyBodies.routes[Int(first) % DeployKeyBodies.routes.count]
    do {
        try route.check(Data(bytes.dropFirst()))
    } catch is APIError {
    } catch is GatehouseError {
    } catch {
        fatalError("\(route.name) refused a body with \(String(reflecting: error)), which the API does not map")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
    @_cdecl("FuzzAPIBodies_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
        runFuzzer(argc, argv, fuzz)
    }
#else
    @main
    struct Replay {
        static func main() throws { try replayCorpus(check) }
    }
#endif
