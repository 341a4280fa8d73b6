import ChessAPI
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Glibc
import Spawning

/// NVIDIA GPUs and their metrics: NVML, loaded with `dlopen` (so the agent runs on machines
/// without the driver), else `nvidia-smi -q -x`. No GPU is a valid answer.
struct GPUInfo: Codable, Sendable, Equatable {
    var name: String
    var uuid: String
    /// `00000000:17:00.0`, as hwloc and CUDA write it (lower case, 8-digit domain).
    var pciBusID: String
    var memoryTotalMB: Int
    var memoryUsedMB: Int
    var utilizationPercent: Int?
    var temperatureC: Int?
    /// Milliwatts.
    var powerMilliwatts: Int?
    var eccUncorrected: Int?
    /// nil where the GPU has no MIG (nvidia-smi's `N/A`).
    var migEnabled: Bool?
    /// The N of `/dev/nvidiaN`; nil under the Windows driver.
    var minorNumber: Int? = nil

    /// The figures a heartbeat carries, as GPU `index` of the node.
    func metrics(index: Int) -> NodeMetrics.GPUMetrics {
        var m = NodeMetrics.GPUMetrics(index: index, utilizationPercent: utilizationPercent, memoryUsedMB: memoryUsedMB,
                                       temperatureC: temperatureC, powerMilliwatts: powerMilliwatts, eccUncorrected: eccUncorrected)
        m.uuid = uuid.isEmpty ? nil : uuid
        m.name = name
        m.memoryTotalMB = memoryTotalMB
        m.migEnabled = migEnabled
        return m
    }
}

enum GPUProbe {
    /// The GPUs of this machine, from NVML or nvidia-smi; empty without an NVIDIA driver.
    static func discover() -> [GPUInfo] {
        if let viaNVML = NVML.devices() { return viaNVML }
        guard let xml = runNvidiaSMI() else { return [] }
        return (try? NvidiaSMIParser.parse(xml)) ?? []
    }

    /// `nvidia-smi` as the shell would find it: on `PATH`, then where the driver packages put it.
    static func nvidiaSMIPath() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let dirs = path.split(separator: ":").map(String.init) + ["/usr/bin", "/usr/local/bin"]
        return dirs.lazy.map { "\($0)/nvidia-smi" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// `nvidia-smi -q -x`'s XML; nil when it fails, or hangs for 30 s (a wedged driver does).
    static func runNvidiaSMI() -> Data? {
        guard let path = nvidiaSMIPath(),
              let ran = try? ChildProcess.run(path, ["-q", "-x"], timeout: 30, outputLimit: 16 << 20),
              !ran.timedOut, !ran.signalled, ran.status == 0 else { return nil }
        return Data(ran.stdout)
    }

    /// hwloc's bus ids and NVML's differ in case and domain width: compare them normalised.
    static func normalizeBusID(_ id: String) -> String {
        let lower = id.lowercased()
        let parts = lower.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let domain = UInt32(parts[0], radix: 16) else { return lower }
        return String(format: "%08x:", domain) + parts[1]
    }

    /// Puts NVML's names into hwloc's GPUs (which know their NUMA domain), matched by bus id.
    /// GPUs the driver knows and hwloc does not (no PCI information in a container, or hwloc
    /// built without it) join the end, in bus order, with no NUMA domain.
    static func merge(_ gpus: [GPUInfo], into topology: inout AgentTopology) {
        let byBus = Dictionary(gpus.map { (normalizeBusID($0.pciBusID), $0) }, uniquingKeysWith: { a, _ in a })
        var matched: Set<String> = []
        for i in topology.gpus.indices {
            guard let bus = topology.gpus[i].pciBusID, let g = byBus[normalizeBusID(bus)] else { continue }
            topology.gpus[i].type = GPUNaming.type(fromName: g.name)
            topology.gpus[i].uuid = g.uuid
            matched.insert(normalizeBusID(bus))
        }
        for g in gpus.sorted(by: { normalizeBusID($0.pciBusID) < normalizeBusID($1.pciBusID) })
        where !matched.contains(normalizeBusID(g.pciBusID)) {
            topology.gpus.append(.init(index: topology.gpus.count, type: GPUNaming.type(fromName: g.name), numa: nil,
                                       uuid: g.uuid, pciBusID: normalizeBusID(g.pciBusID)))
        }
    }

    /// The driver's figures for a node's GPUs, each under the node's index for it (by bus id).
    static func metrics(_ gpus: [GPUInfo], for topology: AgentTopology) -> [NodeMetrics.GPUMetrics] {
        var indexByBus: [String: Int] = [:]
        for g in topology.gpus { if let bus = g.pciBusID { indexByBus[normalizeBusID(bus)] = g.index } }
        return gpus.compactMap { g in indexByBus[normalizeBusID(g.pciBusID)].map { g.metrics(index: $0) } }
            .sorted { $0.index < $1.index }
    }
}

/// `nvidia-smi -q -x`: the `<gpu id="…">` elements of `<nvidia_smi_log>`.
enum NvidiaSMIParser {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ data: Data) throws -> [GPUInfo] {
        let delegate = Collector()
        let parser = XMLParser(data: data)
        parser.delegate = delegate
        guard parser.parse() else {
            throw Failure(description: "nvidia-smi XML: \(parser.parserError.map { "\($0)" } ?? "unreadable")")
        }
        guard delegate.sawRoot, delegate.path.isEmpty else {
            throw Failure(description: "nvidia-smi XML: truncated or not an <nvidia_smi_log> document")
        }
        return delegate.gpus.map { g in
            func int(_ path: String) -> Int? {
                guard let text = g.values[path] else { return nil }
                let number = text.prefix { $0.isNumber || $0 == "." }
                return Double(number).map { Int($0) }
            }
            let power = g.values["gpu_power_readings/power_draw"] ?? g.values["power_readings/power_draw"]
            let ecc = int("ecc_errors/volatile/dram_uncorrectable") ?? int("ecc_errors/volatile/double_bit/total")
            let mig: Bool? = switch g.values["mig_mode/current_mig"]?.lowercased() {
            case "enabled": true
            case "disabled": false
            default: nil  // N/A: no MIG on this GPU
            }
            var info = GPUInfo(name: g.values["product_name"] ?? "gpu", uuid: g.values["uuid"] ?? "",
                               pciBusID: g.id, memoryTotalMB: int("fb_memory_usage/total") ?? 0,
                               memoryUsedMB: int("fb_memory_usage/used") ?? 0, utilizationPercent: int("utilization/gpu_util"),
                               temperatureC: int("temperature/gpu_temp"), powerMilliwatts: power.flatMap(milliwatts),
                               eccUncorrected: ecc, migEnabled: mig)
            info.minorNumber = g.values["minor_number"].flatMap { Int($0) }
            return info
        }
    }

    /// `66.92 W` → 66920, in integers (no rounding through binary fractions); nil for `N/A`.
    static func milliwatts(_ text: String) -> Int? {
        let number = text.prefix { $0.isNumber || $0 == "." }
        let parts = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first.flatMap({ Int($0) }), whole < 1_000_000 else { return nil }
        let fraction = parts.count > 1 ? String(parts[1].prefix(3)).padding(toLength: 3, withPad: "0", startingAt: 0) : "000"
        guard let milli = Int(fraction) else { return nil }
        return whole * 1000 + milli
    }

    /// Collects each GPU's leaf values by their path under `<gpu>` (`fb_memory_usage/total`).
    private final class Collector: NSObject, XMLParserDelegate {
        struct GPU { var id: String; var values: [String: String] = [:] }
        var gpus: [GPU] = []
        var path: [String] = []
        var text = ""
        var sawRoot = false

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            if path.isEmpty && name == "nvidia_smi_log" { sawRoot = true }
            if name == "gpu", path == ["nvidia_smi_log"] {
                gpus.append(GPU(id: attributes["id"] ?? ""))
            }
            path.append(name)
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if path.count > 2, path[0] == "nvidia_smi_log", path[1] == "gpu", !gpus.isEmpty {
                let key = path.dropFirst(2).joined(separator: "/")
                let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !value.isEmpty { gpus[gpus.count - 1].values[key] = value }
            }
            path.removeLast()
            text = ""
        }
    }
}

/// The few NVML calls the agent needs, resolved with `dlsym` from `libnvidia-ml.so.1`.
enum NVML {
    typealias InitFn = @convention(c) () -> Int32
    typealias CountFn = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    typealias HandleFn = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    typealias StringFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    typealias BytesFn = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer) -> Int32
    typealias UIntFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>) -> Int32
    typealias TempFn = @convention(c) (OpaquePointer?, UInt32, UnsafeMutablePointer<UInt32>) -> Int32
    typealias MigFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UInt32>) -> Int32

    /// nil when NVML is not installed (no driver): then nvidia-smi is tried, which will not be there either.
    static func devices() -> [GPUInfo]? {
        guard let lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL) else { return nil }
        func sym<T>(_ name: String, _: T.Type) -> T? { dlsym(lib, name).map { unsafeBitCast($0, to: T.self) } }
        guard let initialize = sym("nvmlInit_v2", InitFn.self), initialize() == 0,
              let count = sym("nvmlDeviceGetCount_v2", CountFn.self),
              let handle = sym("nvmlDeviceGetHandleByIndex_v2", HandleFn.self),
              let name = sym("nvmlDeviceGetName", StringFn.self),
              let uuid = sym("nvmlDeviceGetUUID", StringFn.self),
              let pci = sym("nvmlDeviceGetPciInfo_v3", BytesFn.self),
              let memory = sym("nvmlDeviceGetMemoryInfo", BytesFn.self) else { return nil }
        let utilization = sym("nvmlDeviceGetUtilizationRates", BytesFn.self)
        let temperature = sym("nvmlDeviceGetTemperature", TempFn.self)
        let power = sym("nvmlDeviceGetPowerUsage", UIntFn.self)
        let minor = sym("nvmlDeviceGetMinorNumber", UIntFn.self)
        let migMode = sym("nvmlDeviceGetMigMode", MigFn.self)
        var n: UInt32 = 0
        guard count(&n) == 0 else { return nil }
        var out: [GPUInfo] = []
        for i in 0..<n {
            var h: OpaquePointer?
            guard handle(i, &h) == 0 else { continue }
            var nameBuffer = [CChar](repeating: 0, count: 96)
            var uuidBuffer = [CChar](repeating: 0, count: 96)
            _ = name(h, &nameBuffer, 96)
            _ = uuid(h, &uuidBuffer, 96)
            // nvmlPciInfo_t: char busIdLegacy[16]; 5 × unsigned int; char busId[32].
            var pciInfo = [UInt8](repeating: 0, count: 68)
            _ = pci(h, &pciInfo)
            let bus = String(decoding: pciInfo[36..<68].prefix { $0 != 0 }, as: UTF8.self)
            // nvmlMemory_t: total, free, used (unsigned long long).
            var mem = [UInt64](repeating: 0, count: 3)
            _ = memory(h, &mem)
            var util = [UInt32](repeating: 0, count: 2)
            let utilOK = utilization?(h, &util) == 0
            var temp: UInt32 = 0
            let tempOK = temperature?(h, 0, &temp) == 0
            var milliwatts: UInt32 = 0
            let powerOK = power?(h, &milliwatts) == 0
            func text(_ buffer: [CChar]) -> String {
                String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            var minorNumber: UInt32 = 0
            let minorOK = minor?(h, &minorNumber) == 0
            // NVML_ERROR_NOT_SUPPORTED (3) on GPUs without MIG: nil, as nvidia-smi's N/A.
            var current: UInt32 = 0, pending: UInt32 = 0
            let migOK = migMode?(h, &current, &pending) == 0
            var info = GPUInfo(name: text(nameBuffer), uuid: text(uuidBuffer), pciBusID: bus,
                               memoryTotalMB: Int(mem[0] / 1_048_576), memoryUsedMB: Int(mem[2] / 1_048_576),
                               utilizationPercent: utilOK ? Int(util[0]) : nil, temperatureC: tempOK ? Int(temp) : nil,
                               powerMilliwatts: powerOK ? Int(milliwatts) : nil, eccUncorrected: nil,
                               migEnabled: migOK ? current == 1 : nil)
            info.minorNumber = minorOK ? Int(minorNumber) : nil
            out.append(info)
        }
        return out
    }
}
