// The demo's GPU hosts: two of the demo tenant's labelled group:train (its SSH access policy names
// that label) and one of the provider's shared pool. Their addresses are documentation addresses
// (RFC 5737) and their host keys made for the demo, so health checks find them down in `purser dev`.
import Foundation

enum DemoHosts {
    static func seed(database: Database, tenant: UUID, clock: any WallClock) throws {
        let store = HostStore(database: database, clock: clock)
        guard try store.list(.staff, limit: 1).isEmpty else { return }
        let hosts: [(tenant: UUID?, name: String, address: String, key: String, runtime: String, gpu: GPUHost.GPU, models: [String])] = [
            (
                tenant, "gpu-a1", "192.0.2.11", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDSaFLRHJVK7dFrvBqwf/kH/FmP64fdSPGFGuBGWDhru", "vllm",
                .init(model: "NVIDIA H100 80GB HBM3", count: 8, memoryMiB: 81559), ["llama-3.1-70b-instruct"]
            ),
            (
                tenant, "gpu-a2", "192.0.2.12", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEUz1+BA8amjNiU8dvIQhOFEHg2lJmRSvptgm0s6OgSG", "tgi",
                .init(model: "NVIDIA L40S", count: 4, memoryMiB: 46068), ["mistral-7b-instruct"]
            ),
            (
                nil, "pool-1", "198.51.100.21", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDMUUEgCWwlfmyyGHw31uvJuqHR1tPKIqvnhA1cDYxXG", "vllm",
                .init(model: "NVIDIA A100-SXM4-80GB", count: 8, memoryMiB: 81920), ["qwen2.5-72b-instruct"]
            ),
        ]
        for host in hosts {
            var input = HostInput()
            (input.name, input.address, input.hostKeys, input.runtime) = (host.name, host.address, [host.key], host.runtime)
            (input.gpus, input.models, input.labels) = ([host.gpu], host.models, host.tenant == nil ? ["pool"] : ["group:train"])
            _ = try store.create(input, tenant: host.tenant, actor: .system)
        }
    }
}
