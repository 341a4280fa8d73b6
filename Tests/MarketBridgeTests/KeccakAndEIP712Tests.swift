import MarketBridge
import Testing

@Suite struct Keccak256Tests {
    func hex(_ s: String) -> String { HexBytes.encode(Keccak256.hash(Array(s.utf8))) }

    /// The Keccak team's and Ethereum's published digests (Keccak-256, original padding).
    @Test func matchesPublishedVectors() {
        #expect(hex("") == "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        #expect(hex("abc") == "0x4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
        #expect(hex("The quick brown fox jumps over the lazy dog") == "0x4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15")
        // The hash ERC-20's Transfer event is known by.
        #expect(hex("Transfer(address,address,uint256)") == "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef")
        // A sequence without contiguous storage hashes the same as its bytes.
        #expect(HexBytes.encode(Keccak256.hash((0..<3).lazy.map { UInt8(0x61 + $0) })) == hex("abc"))
    }

    /// Block boundaries (rate 136 bytes): lengths around one and two blocks, as pycryptodome's
    /// Keccak (through eth-hash) gives them for runs of "a".
    @Test func handlesBlockBoundaries() {
        let expected = [135: "0x34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446",
                        136: "0xa6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e",
                        137: "0xd869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39",
                        272: "0xcf7fcd4f705ee749930d19ca84561a9bf62516bd90a471545fa2f49fdc7e63c8",
                        1000: "0xb6a4ac1f51884d71f30fa397a5e155de3099e11fc0edef5d08b646e621e19de9"]
        for (n, digest) in expected {
            #expect(HexBytes.encode(Keccak256.hash([UInt8](repeating: 0x61, count: n))) == digest, "length \(n)")
        }
    }
}

@Suite struct EIP712Tests {
    /// The example of EIP-712 itself ("Ether Mail"), with its published hashes and signature.
    @Test func reproducesTheSpecificationExample() throws {
        let domain = EIP712.Domain(name: "Ether Mail", version: "1", chainID: 1,
                                   verifyingContract: EthereumAddress("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC")!)
        func person(_ name: String, _ wallet: String) -> EIP712.Value {
            .struct(EIP712.Struct(name: "Person", fields: [("name", .string(name)), ("wallet", .address(EthereumAddress(wallet)!))]))
        }
        let mail = EIP712.Struct(name: "Mail", fields: [
            ("from", person("Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")),
            ("to", person("Bob", "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB")),
            ("contents", .string("Hello, Bob!")),
        ])
        #expect(mail.encodedType == "Mail(Person from,Person to,string contents)Person(string name,address wallet)")
        #expect(HexBytes.encode(domain.separator) == "0xf2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f")
        #expect(HexBytes.encode(mail.hash) == "0xc52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e")
        let digest = EIP712.digest(domain: domain, message: mail)
        #expect(HexBytes.encode(digest) == "0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")

        // The spec's key is keccak256("cow").
        let signer = try Secp256k1Signer(privateKey: Keccak256.hash(Array("cow".utf8)))
        #expect(signer.address.checksummed == "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")
        let sig = try signer.sign(digest: digest)
        #expect(HexBytes.encode(sig[0..<32]) == "0x4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d")
        #expect(HexBytes.encode(sig[32..<64]) == "0x07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562")
        #expect(sig[64] == 28)
        #expect(signer.recover(digest: digest, signature: sig) == signer.address)
    }

    @Test func addressesCheckTheirChecksum() {
        #expect(EthereumAddress("0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826") != nil)
        #expect(EthereumAddress("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826") != nil)
        // One letter's case flipped: a typo the checksum catches.
        #expect(EthereumAddress("0xcD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826") == nil)
        #expect(EthereumAddress("0x1234") == nil)
    }

    @Test func refusesInvalidKeys() {
        #expect(throws: Secp256k1Signer.Failure.self) { try Secp256k1Signer(privateKey: [UInt8](repeating: 0, count: 32)) }
        #expect(throws: Secp256k1Signer.Failure.self) { try Secp256k1Signer(privateKey: [UInt8](repeating: 0xff, count: 32)) }
        #expect(throws: Secp256k1Signer.Failure.self) { try Secp256k1Signer(hexKey: "0x12") }
    }
}
