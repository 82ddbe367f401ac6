import GatehouseCore

/// Lists of any length printed with bounded memory: read a window at a time, printed as it arrives.
enum ListPrinting {
    static let batch = 500

    /// Calls `print` with each window's items in order until the list ends; returns how many items there were.
    @discardableResult
    static func each<Item>(_ load: (ListWindow) async throws -> ListPage<Item>, _ print: ([Item]) -> Void) async throws -> Int {
        var count = 0
        for window in ListWindow.batches(of: batch) {
            let page = try await load(window)
            if !page.items.isEmpty { print(page.items) }
            count += page.items.count
            if page.items.count < window.limit { break }
        }
        return count
    }

    /// `--json`: one JSON array whose elements are printed as they are read.
    static func jsonArray<Item>(_ load: (ListWindow) async throws -> ListPage<Item>, _ element: (Item) -> String) async throws {
        var first = true
        try await each(load) { items in
            for item in items {
                Swift.print((first ? "[\n" : ",\n") + element(item), terminator: "")
                first = false
            }
        }
        Swift.print(first ? "[]" : "\n]")
    }
}
