import XCTest
@testable import chessd
