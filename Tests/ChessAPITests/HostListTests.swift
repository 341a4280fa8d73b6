import ChessAPI
import Testing

@Suite struct HostListTests {
    @Test func expandsRangesListsAndPadding() throws {
        #expect(try HostList.expand("node[01-03,10]") == ["node01", "node02", "node03", "node10"])
        #expect(try HostList.expand("a,b[1-2],c") == ["a", "b1", "b2", "c"])
        #expect(try HostList.expand("r[1-2]n[1-2]") == ["r1n1", "r1n2", "r2n1", "r2n2"])
        #expect(try HostList.expand("gpu[8-10]") == ["gpu8", "gpu9", "gpu10"])
        #expect(try HostList.expand("solo") == ["solo"])
    }

    @Test func rejectsBadExpressionsWithAReason() {
        for bad in ["n[1-", "n1]", "n[]", "n[a-b]", "n[5-1]", "n[1-2-3]", "n [1-2]", "n[0-99999999]"] {
            #expect(throws: HostList.Error.self, "\(bad)") { try HostList.expand(bad) }
        }
    }

    @Test func compressInvertsExpand() throws {
        for expression in ["node[01-16,20]", "a[1-3],b[7,9]", "gpu[001-128]"] {
            #expect(HostList.compress(try HostList.expand(expression)) == expression)
        }
        #expect(HostList.compress(["login", "n3", "n1", "n2"]) == "login,n[1-3]")
    }
}
