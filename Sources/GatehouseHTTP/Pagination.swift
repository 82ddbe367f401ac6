import GatehouseCore
import Hummingbird

/// Bitbucket's paginated envelope: `{pagelen, page, size, next, previous, values}`.
struct Page<Value: Encodable>: Encodable {
    var pagelen: Int
    var page: Int
    /// Left out for lists longer than `ListPage.countLimit`, as Bitbucket leaves it out when it is expensive.
    var size: Int?
    var next: String?
    var previous: String?
    var values: [Value]
}

/// `?page=` (from 1) and `?pagelen=` (1–100, default 10), checked.
struct PageRequest {
    static let defaultLength = 10
    static let maximumLength = 100
    var page: Int
    var length: Int
    /// `?after=`: the id the page starts after, which `next` links carry for lists in id order (our addition:
    /// following `next` then costs the same however far in it goes; `page` alone walks the index up to it).
    var after: Int?

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        page = try Self.number(query.get("page"), name: "page", default: 1, range: 1...1_000_000)
        length = try Self.number(query.get("pagelen"), name: "pagelen", default: Self.defaultLength, range: 1...Self.maximumLength)
        after = try query.get("after").map { try Self.number($0, name: "after", default: 0, range: 0...Int(Int32.max)) }
    }

    var offset: Int { (page - 1) * length }
    /// The page as the window a service loads.
    var window: ListWindow { ListWindow(offset: offset, limit: length, after: after) }

    /// The envelope of a page the service cut. `cursor` gives an item's id for lists in id order, so that `next`
    /// carries where the page ended.
    func envelope<Item, Value>(
        _ page: ListPage<Item>, url: String, cursor: ((Item) -> Int)? = nil, _ transform: (Item) -> Value
    ) -> Page<Value> {
        let resume = cursor.flatMap { cursor in page.items.last.map(cursor) }
        return Page(
            pagelen: length, page: self.page, size: page.total,
            next: page.hasMore ? link(url, page: self.page + 1, after: resume) : nil,
            previous: self.page > 1 ? link(url, page: self.page - 1) : nil,
            values: page.items.map(transform))
    }

    /// The envelope for one page of `total` items whose values are `values`; links keep the request's other parameters.
    func envelope<Value>(_ values: [Value], total: Int, url: String) -> Page<Value> {
        let more = offset + values.count < total
        return Page(
            pagelen: length, page: page, size: total,
            next: more ? link(url, page: page + 1) : nil,
            previous: page > 1 ? link(url, page: page - 1) : nil,
            values: values)
    }

    /// One page out of a list already in memory.
    func slice<Value>(_ all: [Value], url: String) -> Page<Value> {
        let values = offset < all.count ? Array(all[offset..<min(all.count, offset + length)]) : []
        return envelope(values, total: all.count, url: url)
    }

    private func link(_ url: String, page: Int, after: Int? = nil) -> String {
        "\(url)?page=\(page)&pagelen=\(length)" + (after.map { "&after=\($0)" } ?? "")
    }

    private static func number(_ text: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError(.badRequest, "`\(name)` must be a whole number from \(range.lowerBound) to \(range.upperBound).", detail: "Got \"\(text)\".")
        }
        return number
    }
}
