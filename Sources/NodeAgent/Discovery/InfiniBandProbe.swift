import CIbverbs
import Foundation

/// InfiniBand (and RoCE) adapters through libibverbs: devices, their ports, state, link layer,
/// rate, LID and GUIDs. A machine without RDMA hardware has no devices: an empty answer.
enum InfiniBandProbe {
    struct Port: Codable, Sendable, Equatable {
        var device: String
        var port: Int
        var state: String
        var linkLayer: String
        var rateGbps: Int
        var lid: Int
        var nodeGUID: String
    }

    static func ports() -> [Port] {
        var count: Int32 = 0
        guard let list = ibv_get_device_list(&count) else { return [] }
        defer { ibv_free_device_list(list) }
        var out: [Port] = []
        for i in 0..<Int(count) {
            guard let device = list[i] else { continue }
            let name = String(cString: ibv_get_device_name(device))
            let guid = String(format: "%016llx", UInt64(bigEndian: ibv_get_device_guid(device)))
            guard let context = ibv_open_device(device) else { continue }
            defer { ibv_close_device(context) }
            var attr = ibv_device_attr()
            guard ibv_query_device(context, &attr) == 0 else { continue }
            for p in 1...max(Int(attr.phys_port_cnt), 1) where p <= Int(attr.phys_port_cnt) {
                var pa = ibv_port_attr()
                guard ___ibv_query_port(context, UInt8(p), &pa) == 0 else { continue }
                out.append(Port(device: name, port: p, state: stateName(pa.state), linkLayer: pa.link_layer == 2 ? "Ethernet" : "InfiniBand",
                                rateGbps: rate(width: Int(pa.active_width), speed: Int(pa.active_speed)), lid: Int(pa.lid),
                                nodeGUID: guid))
            }
        }
        return out
    }

    static func stateName(_ s: ibv_port_state) -> String {
        switch s {
        case IBV_PORT_DOWN: return "DOWN"
        case IBV_PORT_INIT: return "INIT"
        case IBV_PORT_ARMED: return "ARMED"
        case IBV_PORT_ACTIVE: return "ACTIVE"
        default: return "UNKNOWN"
        }
    }

    /// Gb/s from the verbs width (1x/4x/8x/12x/2x) and speed codes (SDR … NDR).
    static func rate(width: Int, speed: Int) -> Int {
        let lanes = [1: 1, 2: 4, 4: 8, 8: 12, 16: 2][width] ?? 0
        let perLane = [1: 2, 2: 5, 4: 10, 8: 10, 16: 14, 32: 25, 64: 50, 128: 100][speed] ?? 0
        return lanes * perLane
    }

    /// The line a node's registration carries for each port.
    static func describe(_ p: Port) -> String {
        "\(p.device) port \(p.port) \(p.state) \(p.linkLayer) \(p.rateGbps) Gb/s LID \(p.lid) GUID \(p.nodeGUID)"
    }
}
