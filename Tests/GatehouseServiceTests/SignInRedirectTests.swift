import Testing

@testable import GatehouseHTTP

@Suite("Where sign-in sends the browser afterwards")
struct SignInRedirectTests {
    static let cases: [(next: String?, goesTo: String)] = [
        ("/acme/app/admin/deploy-keys", "/acme/app/admin/deploy-keys"),
        ("/account/ssh-keys?add=1", "/account/ssh-keys?add=1"),
        (nil, "/"),
        ("//evil.example/", "/"),
        ("/\t/evil.example/", "/"),
        ("/\n/evil.example/", "/"),
        ("/\r\n/evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("evil.example", "/"),
        ("/ /evil.example/", "/"),
    ]

    @Test("only a plain path on this site: no other host, no control characters or spaces (browsers drop tabs)", arguments: cases)
    func next(_ row: (next: String?, goesTo: String)) {
        #expect(WebRoutes.safeNext(row.next) == row.goesTo)
    }
}
