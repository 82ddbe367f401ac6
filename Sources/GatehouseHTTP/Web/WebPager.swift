import Foundation
import GatehouseCore
import Hummingbird

/// A web list's page: `?page=` (from 1), a fixed length within the API's limits, and the links between pages.
struct WebPager {
    static let length = 50
    var page: Int

    init(page: Int = 1) {
        self.page = page
    }

    /// `?page=` of a request; anything but a whole number from 1 is refused with what to send instead.
    init(_ request: Request) throws {
        guard let text = request.uri.queryParameters.get("page") else {
            self.init()
            return
        }
        guard let page = Int(text), (1...1_000_000).contains(page) else {
            throw GatehouseError.invalidArgument("The page number must be a whole number from 1 to 1000000; got \"\(text.prefix(40))\".")
        }
        self.init(page: page)
    }

    var window: ListWindow { ListWindow(offset: (page - 1) * Self.length, limit: Self.length) }

    /// The template's `pager`: where this page starts and ends, and the links to the pages either side; nothing
    /// when the whole list fits on one page.
    func values<Item>(_ list: ListPage<Item>, path: String) -> [String: Any] {
        guard list.hasMore || page > 1 else { return [:] }
        let shown = list.items.count
        var pager: [String: Any] = [
            "first": shown == 0 ? 0 : window.offset + 1, "last": window.offset + shown,
            "total": list.total.map(String.init) ?? "more than \(ListPage<Item>.countLimit.formatted())",
        ]
        if page > 1 { pager["previous"] = "\(path)?page=\(page - 1)" }
        if list.hasMore { pager["next"] = "\(path)?page=\(page + 1)" }
        return ["pager": pager]
    }
}
